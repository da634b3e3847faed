// A ParallelRunStep run's partition table on its page: the mini batches per status, then a
// page of them at a time (a "many models" run has 10,000), filtered by status; a failed
// mini batch opens to its error and traceback, and each links the models it registered.
import { Fragment, useState, type ReactNode } from "react";
import { api, ApiError, type PartitionPage } from "./api";
import { formatNumber } from "./format";
import { clampOffset, firstLine, modelOf, PAGE_SIZE, pageLabel, PARTITION_STATUSES, partitionLabel } from "./partitions";
import { href } from "./route";
import { StatusBadge } from "./StatusBadge";
import { useFetch } from "./useFetch";

/** the page, or null when the run keeps no table (a reused step that was no parallel one) */
async function load(runId: string, status: string, offset: number): Promise<PartitionPage | null> {
  try {
    return await api.partitions(runId, { status: status || undefined, offset, limit: PAGE_SIZE });
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

/** `frame` wraps what it shows in the page's section (nothing at all when the run keeps no table) */
export function PartitionsSection({ runId, frame }: { runId: string; frame: (body: ReactNode) => ReactNode }) {
  const [status, setStatus] = useState("");
  const [offset, setOffset] = useState(0);
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const page = useFetch(() => load(runId, status, offset), `${runId}/partitions/${status}/${offset}`);
  if (page.data === null) return null;
  if (page.error) return frame(<p role="alert" className="error">{page.error}</p>);
  if (!page.data) return frame(<p className="muted">Loading partitions…</p>);
  const { counts, total, rows } = page.data;
  const all = Object.values(counts).reduce((sum, n) => sum + n, 0);
  const choose = (next: string) => {
    setStatus(next);
    setOffset(0);
  };
  const toggle = (batchId: string) =>
    setOpen((now) => {
      const next = new Set(now);
      if (next.has(batchId)) next.delete(batchId);
      else next.add(batchId);
      return next;
    });
  const go = (to: number) => setOffset(clampOffset(to, total));
  return frame(
    <>
      <div className="partition-filter" role="group" aria-label="Mini batches by status">
        <button type="button" aria-pressed={status === ""} onClick={() => choose("")}>All {formatNumber(all)}</button>
        {PARTITION_STATUSES.map((name) => (
          <button key={name} type="button" aria-pressed={status === name} onClick={() => choose(name)}>
            <StatusBadge status={name} /> {formatNumber(counts[name] ?? 0)}
          </button>
        ))}
      </div>
      <div className="wide">
        <table aria-label="Partitions" className="partitions">
          <thead>
            <tr>
              <th scope="col">Mini batch</th><th scope="col">Partition</th><th scope="col">Status</th>
              <th scope="col">Tries</th><th scope="col">Seconds</th><th scope="col">Items</th>
              <th scope="col">Error</th><th scope="col">Models</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => {
              const expandable = Boolean(row.error || row.traceback);
              const expanded = open.has(row.batch_id);
              return (
                <Fragment key={row.batch_id}>
                  <tr>
                    <td>{row.batch_id}</td>
                    <td>{partitionLabel(row.partition)}</td>
                    <td>
                      <StatusBadge status={row.status} />
                      {row.reused_from && <> (from <a href={href.run(row.reused_from)}>{row.reused_from}</a>)</>}
                    </td>
                    <td>{row.tries}</td>
                    <td>{row.duration_s == null ? "" : row.duration_s.toFixed(2)}</td>
                    <td>{row.items ?? ""}</td>
                    <td>
                      {expandable && (
                        <button type="button" className="link" aria-expanded={expanded}
                                onClick={() => toggle(row.batch_id)}>
                          {firstLine(row.error) || "traceback"}
                        </button>
                      )}
                    </td>
                    <td>
                      {row.models.map((id) => {
                        const model = modelOf(id);
                        return <a key={id} className="model-link" href={href.asset("model", model.name, model.version)}>{id}</a>;
                      })}
                    </td>
                  </tr>
                  {expanded && (
                    <tr className="partition-error">
                      <td colSpan={8}>
                        <pre className="run-error" aria-label={`Error of ${row.batch_id}`}>
                          {row.traceback || row.error}
                        </pre>
                      </td>
                    </tr>
                  )}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      </div>
      <div className="pager">
        <button type="button" onClick={() => go(offset - PAGE_SIZE)} disabled={offset === 0}>Previous</button>
        <span className="muted" role="status">{pageLabel(offset, rows.length, total)}</span>
        <button type="button" onClick={() => go(offset + PAGE_SIZE)} disabled={offset + rows.length >= total}>Next</button>
      </div>
    </>,
  );
}
