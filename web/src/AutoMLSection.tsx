// An AutoML run: its leaderboard (each iteration's algorithm, primary metric and duration,
// the best and the ensembles marked), its data guardrails and the best model's feature
// importances as bars. While the run goes on it reads them again.
import { api, type KeyValues, type RunPage } from "./api";
import { GUARDRAILS_FILE, guardrails, IMPORTANCE_TABLE, importances, leaderboard } from "./automl";
import { formatNumber } from "./format";
import { href } from "./route";
import { StatusBadge } from "./StatusBadge";
import type { SweepDefinition } from "./trials";
import { useFetch } from "./useFetch";
import { useRefreshWhile } from "./useRefreshWhile";

const REFRESH_MS = 3000;
const MAX_ITERATIONS = 1000;

async function loadIterations(runId: string, metric: string): Promise<{ page: RunPage; properties: KeyValues[] }> {
  const page = await api.queryRuns({ parent_id: runId, limit: MAX_ITERATIONS, columns: [metric] });
  // each iteration's properties (its algorithm, its score) come with the page
  return { page, properties: page.runs.map((run) => page.properties[run.run_id] ?? {}) };
}

/** null before the driver has written them (or when it could not) */
async function loadGuardrails(runId: string) {
  const files = await api.files(runId);
  if (!files.includes(GUARDRAILS_FILE)) return null;
  return guardrails(await (await api.fileContent(runId, GUARDRAILS_FILE)).text());
}

export function AutoMLSection({ runId, sweep, bestRunId, live }: {
  runId: string; sweep: SweepDefinition; bestRunId: string | null | undefined; live: boolean;
}) {
  const iterations = useFetch(() => loadIterations(runId, sweep.metric), `${runId}/iterations`);
  const checks = useFetch(() => loadGuardrails(runId), `${runId}/guardrails`);
  const features = useFetch(() => api.metricRows(runId, IMPORTANCE_TABLE), `${runId}/importance`);
  useRefreshWhile(live, REFRESH_MS, iterations.reload, checks.reload, features.reload);
  return (
    <>
      <h4>Leaderboard</h4>
      {iterations.error && <p role="alert" className="error">{iterations.error}</p>}
      {iterations.data && (
        <Leaderboard board={leaderboard(iterations.data.page, iterations.data.properties, sweep.metric,
                                        sweep.maximize, bestRunId)} metric={sweep.metric} />
      )}
      <h4>Data guardrails</h4>
      {checks.error && <p role="alert" className="error">{checks.error}</p>}
      {checks.data === undefined && !checks.error && <p className="muted">Loading guardrails…</p>}
      {checks.data === null && <p className="muted">No guardrails recorded.</p>}
      {checks.data && (
        <table aria-label="Guardrails">
          <thead><tr><th scope="col">Guardrail</th><th scope="col">Result</th><th scope="col">Description</th></tr></thead>
          <tbody>
            {checks.data.map((check) => (
              <tr key={check.type}>
                <th scope="row">{check.type}</th>
                <td className={`guardrail-${check.result.toLowerCase()}`}>{check.result}</td>
                <td>
                  {check.description}
                  {check.parameters.length > 0 && (
                    <span className="muted"> ({check.parameters.map((row) =>
                      Object.entries(row).map(([k, v]) => `${k} ${v}`).join(", ")).join("; ")})</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h4>Feature importance</h4>
      {features.error && <p role="alert" className="error">{features.error}</p>}
      {features.data && <ImportanceBars items={importances(features.data)} />}
    </>
  );
}

function Leaderboard({ board, metric }: { board: ReturnType<typeof leaderboard>; metric: string }) {
  if (board.length === 0) return <p className="muted">No iterations yet.</p>;
  return (
    <div className="wide">
      <table aria-label="Leaderboard">
        <thead>
          <tr>
            <th scope="col">Rank</th><th scope="col">Iteration</th><th scope="col">Algorithm</th>
            <th scope="col">{metric}</th><th scope="col">Duration</th><th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {board.map((item, k) => (
            <tr key={item.runId} className={item.best ? "best" : undefined}>
              <td>{k + 1}</td>
              <td>
                <a href={href.run(item.runId)}>{item.iteration ?? item.runId}</a>
                {item.best && <span className="best-mark"> (best)</span>}
              </td>
              <td>
                {item.preprocessor ? `${item.preprocessor}, ` : ""}{item.algorithm}
                {item.ensemble && (
                  <span className="muted"> (ensemble{item.ensembled.length > 0 ? ` of iterations ${item.ensembled.join(", ")}` : ""})</span>
                )}
              </td>
              <td>{formatNumber(item.score)}</td>
              <td>{item.seconds === null ? "" : `${formatNumber(Math.round(item.seconds * 10) / 10)} s`}</td>
              <td><StatusBadge status={item.status} /></td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ImportanceBars({ items }: { items: ReturnType<typeof importances> }) {
  if (items.length === 0) return <p className="muted">No feature importances logged.</p>;
  const largest = Math.max(...items.map((item) => Math.abs(item.importance)), Number.MIN_VALUE);
  return (
    <table aria-label="Feature importance" className="importance">
      <tbody>
        {items.map((item) => (
          <tr key={item.feature}>
            <th scope="row">{item.feature}</th>
            <td className="bar-cell">
              <span className="bar" style={{ width: `${(100 * Math.abs(item.importance)) / largest}%` }} aria-hidden="true" />
            </td>
            <td>{formatNumber(item.importance)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
