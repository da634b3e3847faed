// Runs side by side (up to 100, picked in a runs table): the properties and tags that differ,
// each metric's latest value, parallel coordinates over those, and each scalar metric's series
// overlaid on one chart.
import { api, type KeyValues, type MetricName, type RunRow } from "./api";
import { differences } from "./compare";
import { formatNumber } from "./format";
import { MetricChart } from "./MetricChart";
import { expandObjects } from "./parallelCoordinates";
import { ParallelCoordinates } from "./ParallelCoordinates";
import { href } from "./route";
import { StatusBadge } from "./StatusBadge";
import { useDocumentTitle } from "./useDocumentTitle";
import { useFetch } from "./useFetch";

interface Compared {
  runs: RunRow[];
  properties: KeyValues[];
  tags: KeyValues[];
  metrics: MetricName[][];
}

async function load(runIds: string[]): Promise<Compared> {
  const [runs, properties, tags, metrics] = await Promise.all([
    Promise.all(runIds.map(api.run)),
    Promise.all(runIds.map(api.properties)),
    Promise.all(runIds.map(api.tags)),
    Promise.all(runIds.map(api.metricNames)),
  ]);
  return { runs, properties, tags, metrics };
}

export function CompareView({ runIds }: { runIds: string[] }) {
  const compared = useFetch(() => load(runIds), runIds.join(","));
  useDocumentTitle(`Comparing ${runIds.length} runs`);
  if (compared.error) return <p role="alert" className="error">{compared.error}</p>;
  if (!compared.data) return <p className="muted">Loading {runIds.length} runs…</p>;
  const { runs, properties, tags, metrics } = compared.data;
  const names = Object.fromEntries(runs.map((run) => [run.run_id, run.display_name ?? run.run_id]));
  const differing = [
    ...differences(properties).map((d) => ({ ...d, key: `property:${d.key}` })),
    ...differences(tags).map((d) => ({ ...d, key: `tag:${d.key}` })),
  ];
  const scalars = [...new Set(metrics.flatMap((logged) =>
    logged.filter((metric) => metric.kind === "scalar").map((metric) => metric.name)))].sort();
  const latest = (k: number, name: string) => metrics[k]?.find((m) => m.kind === "scalar" && m.name === name)?.latest;

  return (
    <article className="compare">
      <h2>Comparing {runs.length} runs</h2>
      <div className="wide">
        <table aria-label="Compared runs">
          <thead>
            <tr>
              <th scope="col">Run</th>
              {runs.map((run) => (
                <th key={run.run_id} scope="col"><a href={href.run(run.run_id)}>{names[run.run_id]}</a></th>
              ))}
            </tr>
          </thead>
          <tbody>
            <tr>
              <th scope="row">status</th>
              {runs.map((run) => <td key={run.run_id}><StatusBadge status={run.status} /></td>)}
            </tr>
            {differing.map(({ key, values }) => (
              <tr key={key}>
                <th scope="row">{key}</th>
                {values.map((value, k) => <td key={k}>{value ?? <span className="muted">—</span>}</td>)}
              </tr>
            ))}
            {scalars.map((name) => (
              <tr key={`metric:${name}`}>
                <th scope="row">{name} (latest)</th>
                {runs.map((run, k) => <td key={run.run_id}>{formatNumber(latest(k, name))}</td>)}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {differing.length === 0 && <p className="muted">The runs have the same properties and tags.</p>}
      {runs.length > 1 && (
        <ParallelCoordinates runIds={runs.map((run) => run.run_id)} labels={names} columns={[
          ...expandObjects(differing),
          ...scalars.map((name) => ({ key: name, values: runs.map((_, k) => latest(k, name)) })),
        ]} />
      )}
      <div className="charts">
        {scalars.map((name) => (
          <MetricChart key={name} name={name} labels={names}
                       runIds={runs.filter((_, k) => latest(k, name) !== undefined).map((run) => run.run_id)} />
        ))}
      </div>
    </article>
  );
}
