import { describe, expect, it } from "vitest";
import { zipEntries, zipRead, ZipError } from "./zip";

/** a zip as Python's zipfile writes one: local headers, then the central directory */
async function deflateRaw(raw: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([raw]).stream().pipeThrough(new CompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function makeZip(files: { name: string; text: string; deflate: boolean }[]): Promise<ArrayBuffer> {
  const parts: Uint8Array<ArrayBuffer>[] = [];
  const directory: Uint8Array<ArrayBuffer>[] = [];
  let offset = 0;
  for (const file of files) {
    const name = new TextEncoder().encode(file.name);
    const raw = new TextEncoder().encode(file.text);
    const data: Uint8Array<ArrayBuffer> = file.deflate ? await deflateRaw(raw) : raw;
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(8, file.deflate ? 8 : 0, true);
    local.setUint32(18, data.length, true);
    local.setUint32(22, raw.length, true);
    local.setUint16(26, name.length, true);
    parts.push(new Uint8Array(local.buffer), name, data);
    const entry = new DataView(new ArrayBuffer(46));
    entry.setUint32(0, 0x02014b50, true);
    entry.setUint16(10, file.deflate ? 8 : 0, true);
    entry.setUint32(20, data.length, true);
    entry.setUint32(24, raw.length, true);
    entry.setUint16(28, name.length, true);
    entry.setUint32(42, offset, true);
    directory.push(new Uint8Array(entry.buffer), name);
    offset += 30 + name.length + data.length;
  }
  const size = directory.reduce((sum, part) => sum + part.length, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, files.length, true);
  end.setUint16(10, files.length, true);
  end.setUint32(12, size, true);
  end.setUint32(16, offset, true);
  const all = [...parts, ...directory, new Uint8Array(end.buffer)];
  const out = new Uint8Array(all.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of all) {
    out.set(part, at);
    at += part.length;
  }
  return out.buffer;
}

describe("zip", () => {
  it("lists the files and reads stored and deflated ones", async () => {
    const text = "print('hello')\n".repeat(50);
    const zip = await makeZip([
      { name: "src/", text: "", deflate: false },
      { name: "train.py", text, deflate: true },
      { name: "src/é.txt", text: "plain", deflate: false },
    ]);
    const entries = zipEntries(zip);
    expect(entries.map((e) => [e.name, e.size])).toEqual([["train.py", text.length], ["src/é.txt", 5]]);
    const decode = async (k: number) => new TextDecoder().decode(await zipRead(zip, entries[k]!));
    expect(await decode(0)).toBe(text);
    expect(await decode(1)).toBe("plain");
  });

  it("refuses what is not a zip", () => {
    expect(() => zipEntries(new TextEncoder().encode("not a zip at all, just text here").buffer)).toThrow(ZipError);
  });
});
