// A metric that is not a number series: an image (shown), or a list, rows or a table the run
// logged (shown as a table, its first rows).
import { useEffect, useState } from "react";
import { api, errorMessage, type MetricName } from "./api";
import { formatCount, formatNumber } from "./format";
import { gridOf, imageFile } from "./loggedTables";
import { useFetch } from "./useFetch";

const MAX_ROWS = 200;

export function LoggedValue({ runId, metric }: { runId: string; metric: MetricName }) {
  const rows = useFetch(() => api.metricRows(runId, metric.name), `${runId}/${metric.name}/${metric.count}`);
  const ofKind = rows.data?.filter((row) => row.kind === metric.kind);
  return (
    <figure className="logged-value" aria-label={`${metric.kind} ${metric.name}`}>
      <figcaption><strong>{metric.name}</strong> <span className="muted">{metric.kind}</span></figcaption>
      {rows.error && <p role="alert" className="error">{rows.error}</p>}
      {ofKind && (metric.kind === "image"
        ? <RunImage runId={runId} file={imageFile(ofKind)} name={metric.name} />
        : <Grid {...gridOf(metric.kind, ofKind)} />)}
    </figure>
  );
}

function Grid({ columns, rows }: ReturnType<typeof gridOf>) {
  const cell = (value: unknown) =>
    typeof value === "number" ? formatNumber(value)
      : typeof value === "object" && value !== null ? JSON.stringify(value) : String(value ?? "");
  return (
    <div className="wide">
      <table>
        <thead><tr>{columns.map((column) => <th key={column} scope="col">{column}</th>)}</tr></thead>
        <tbody>
          {rows.slice(0, MAX_ROWS).map((row, k) => (
            <tr key={k}>{row.map((value, c) => <td key={c}>{cell(value)}</td>)}</tr>
          ))}
        </tbody>
      </table>
      {rows.length > MAX_ROWS && <p className="muted">The first {MAX_ROWS} of {formatCount(rows.length)} rows.</p>}
    </div>
  );
}

/** An image among the run's files, fetched with the token (so not a plain <img src>). */
function RunImage({ runId, file, name }: { runId: string; file: string | undefined; name: string }) {
  const [url, setUrl] = useState<string | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  useEffect(() => {
    if (!file) return;
    let objectUrl: string | undefined;
    let current = true;
    api.fileContent(runId, file).then(
      (blob) => {
        objectUrl = URL.createObjectURL(blob);
        if (current) setUrl(objectUrl);
      },
      (e: unknown) => current && setError(errorMessage(e)),
    );
    return () => {
      current = false;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [runId, file]);
  if (error) return <p role="alert" className="error">{error}</p>;
  return url ? <img src={url} alt={name} className="run-image" /> : <p className="muted">Loading image…</p>;
}
