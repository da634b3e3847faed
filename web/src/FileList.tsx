// A run's files (outputs/, logs/, what it uploaded): each can be downloaded, and a text file
// read here. The bytes come through the API with the token, so a download is a blob the page
// hands to the browser rather than a plain link.
import { useState } from "react";
import { api, errorMessage } from "./api";
import { formatCount } from "./format";
import { useFetch } from "./useFetch";

/** larger files are offered for download only */
const MAX_VIEW_BYTES = 4 * 1024 * 1024;

type Shown = { name: string; text?: string; note?: string };

/** the text of a file to show here, or undefined for one too large or not UTF-8 text */
export async function readText(blob: Blob): Promise<string | undefined> {
  if (blob.size > MAX_VIEW_BYTES) return undefined;
  const bytes = new Uint8Array(await blob.arrayBuffer());
  if (bytes.subarray(0, 8192).includes(0)) return undefined;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined; // not UTF-8: a binary file
  }
}

function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name.split("/").pop() ?? name;
  link.click();
  window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function FileList({ runId }: { runId: string }) {
  const files = useFetch(() => api.files(runId), runId);
  const [shown, setShown] = useState<Shown | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);

  const act = async (name: string, action: (blob: Blob) => Promise<void> | void) => {
    setError(undefined);
    try {
      await action(await api.fileContent(runId, name));
    } catch (e) {
      setError(`${name}: ${errorMessage(e)}`);
    }
  };
  const view = (name: string) => act(name, async (blob) => {
    const text = await readText(blob);
    setShown(text === undefined
      ? { name, note: `${formatCount(blob.size)} bytes that are not text to show here: download it.` }
      : { name, text });
  });

  if (files.error) return <p role="alert" className="error">{files.error}</p>;
  if (!files.data) return <p className="muted">Loading files…</p>;
  if (files.data.length === 0) return <p className="muted">This run has no files.</p>;
  return (
    <div className="files">
      <ul aria-label="Files">
        {files.data.map((name) => (
          <li key={name}>
            <span className="file-name">{name}</span>
            <button type="button" aria-label={`View ${name}`} onClick={() => view(name)}>View</button>
            <button type="button" aria-label={`Download ${name}`}
                    onClick={() => act(name, (blob) => saveBlob(blob, name))}>Download</button>
          </li>
        ))}
      </ul>
      {error && <p role="alert" className="error">{error}</p>}
      {shown && (
        <section className="file-view" aria-label={`Content of ${shown.name}`}>
          <h4>{shown.name} <button type="button" onClick={() => setShown(undefined)}>Close</button></h4>
          {shown.text !== undefined ? <pre tabIndex={0}>{shown.text}</pre> : <p className="muted">{shown.note}</p>}
        </section>
      )}
    </div>
  );
}
