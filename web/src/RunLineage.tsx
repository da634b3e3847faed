// What a run read and wrote: the dataset and model versions its lineage records, each a link
// to its page.
import { api } from "./api";
import { href } from "./route";
import { useFetch } from "./useFetch";

function assetLink(kind: string, name: string, version: number) {
  const text = `${kind} ${name} version ${version}`;
  return kind === "model" || kind === "dataset" ? <a href={href.asset(kind, name, version)}>{text}</a> : text;
}

export function RunLineage({ runId }: { runId: string }) {
  const rows = useFetch(() => api.lineage({ run_id: runId }), runId);
  if (rows.error) return <p role="alert" className="error">{rows.error}</p>;
  if (!rows.data) return <p className="muted">Loading lineage…</p>;
  const inputs = rows.data.filter((row) => row.role === "input");
  const outputs = rows.data.filter((row) => row.role === "output");
  return (
    <div className="columns">
      {([["Inputs", inputs, "It read no registered dataset or model."],
         ["Outputs", outputs, "It registered no dataset or model."]] as const).map(([title, list, none]) => (
        <section key={title} aria-label={title}>
          <h4>{title}</h4>
          {list.length === 0 ? <p className="muted">{none}</p> : (
            <ul>
              {list.map((row) => (
                <li key={`${row.kind}/${row.name}/${row.version}/${row.label ?? ""}`}>
                  {assetLink(row.kind, row.name, row.version)}
                  {row.label && <span className="muted"> as {row.label}</span>}
                </li>
              ))}
            </ul>
          )}
        </section>
      ))}
    </div>
  );
}
