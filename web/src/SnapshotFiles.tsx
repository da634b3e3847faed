// The run's snapshot: the source folder it ran from, as the zip the workspace keeps of it.
// Its files are listed (path, size) once asked for, and a text file can be read here.
import { useState } from "react";
import { api, errorMessage } from "./api";
import { readText } from "./FileList";
import { formatCount } from "./format";
import { zipEntries, zipRead, type ZipEntry } from "./zip";

type Shown = { name: string; text?: string; note?: string };

export function SnapshotFiles({ hash }: { hash: string }) {
  const [zip, setZip] = useState<{ buffer: ArrayBuffer; entries: ZipEntry[] } | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const [shown, setShown] = useState<Shown | undefined>(undefined);

  const open = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const buffer = await api.snapshot(hash);
      setZip({ buffer, entries: zipEntries(buffer) });
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  const view = async (entry: ZipEntry) => {
    if (!zip) return;
    setError(undefined);
    try {
      const bytes = await zipRead(zip.buffer, entry);
      const text = await readText(new Blob([bytes as Uint8Array<ArrayBuffer>]));
      setShown(text === undefined
        ? { name: entry.name, note: `${formatCount(entry.size)} bytes that are not text to show here.` }
        : { name: entry.name, text });
    } catch (e) {
      setError(`${entry.name}: ${errorMessage(e)}`);
    }
  };

  return (
    <div className="files">
      <p className="muted">Snapshot <code>{hash.slice(0, 12)}</code>{" "}
        {!zip && <button type="button" onClick={open} disabled={busy}>{busy ? "Reading…" : "List source files"}</button>}
      </p>
      {error && <p role="alert" className="error">{error}</p>}
      {zip && zip.entries.length === 0 && <p className="muted">The snapshot has no files.</p>}
      {zip && zip.entries.length > 0 && (
        <table aria-label="Source files">
          <thead><tr><th scope="col">Path</th><th scope="col">Size (bytes)</th><th scope="col"><span className="visually-hidden">Actions</span></th></tr></thead>
          <tbody>
            {zip.entries.map((entry) => (
              <tr key={entry.name}>
                <td className="file-name">{entry.name}</td>
                <td>{formatCount(entry.size)}</td>
                <td><button type="button" aria-label={`View source ${entry.name}`} onClick={() => view(entry)}>View</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {shown && (
        <section className="file-view" aria-label={`Source of ${shown.name}`}>
          <h4>{shown.name} <button type="button" onClick={() => setShown(undefined)}>Close</button></h4>
          {shown.text !== undefined ? <pre tabIndex={0}>{shown.text}</pre> : <p className="muted">{shown.note}</p>}
        </section>
      )}
    </div>
  );
}
