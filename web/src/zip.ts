// A run's snapshot is a zip of its source folder (GET /snapshots/HASH/content): its files are
// listed from the zip's central directory, and one is read by inflating its bytes in the
// browser (DecompressionStream), so no server route is needed for either.

export interface ZipEntry {
  name: string;
  /** bytes once extracted */
  size: number;
  compressedSize: number;
  /** 0 stored, 8 deflated */
  method: number;
  /** where its local header starts */
  offset: number;
}

const END_OF_DIRECTORY = 0x06054b50;
const DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;

export class ZipError extends Error {}

/** the files of a zip (folders left out), in the zip's order */
export function zipEntries(buffer: ArrayBuffer): ZipEntry[] {
  const view = new DataView(buffer);
  let end = -1;
  for (let at = buffer.byteLength - 22; at >= Math.max(0, buffer.byteLength - 22 - 0xffff); at--) {
    if (view.getUint32(at, true) === END_OF_DIRECTORY) {
      end = at;
      break;
    }
  }
  if (end < 0) throw new ZipError("not a zip file (no end of central directory)");
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const decoder = new TextDecoder();
  const entries: ZipEntry[] = [];
  for (let k = 0; k < count; k++) {
    if (view.getUint32(at, true) !== DIRECTORY_ENTRY) throw new ZipError(`a broken central directory at byte ${at}`);
    const nameLength = view.getUint16(at + 28, true);
    const name = decoder.decode(new Uint8Array(buffer, at + 46, nameLength));
    if (!name.endsWith("/")) {
      entries.push({
        name,
        method: view.getUint16(at + 10, true),
        compressedSize: view.getUint32(at + 20, true),
        size: view.getUint32(at + 24, true),
        offset: view.getUint32(at + 42, true),
      });
    }
    at += 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  return entries;
}

/** one file's bytes */
export async function zipRead(buffer: ArrayBuffer, entry: ZipEntry): Promise<Uint8Array> {
  const view = new DataView(buffer);
  if (view.getUint32(entry.offset, true) !== LOCAL_HEADER) throw new ZipError(`no file header for ${entry.name}`);
  const start = entry.offset + 30 + view.getUint16(entry.offset + 26, true) + view.getUint16(entry.offset + 28, true);
  const stored = new Uint8Array(buffer, start, entry.compressedSize);
  if (entry.method === 0) return stored;
  if (entry.method !== 8) throw new ZipError(`${entry.name}: compression method ${entry.method} is not supported`);
  const inflated = new Blob([stored]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(inflated).arrayBuffer());
}
