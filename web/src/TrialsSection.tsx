// A HyperDrive sweep's trials: a table (sortable: trial, status, each hyperparameter, the
// primary metric, a policy's stop marked) linking to each trial, and a chart of the primary
// metric against the hyperparameter picked, stopped trials drawn apart and the best ringed.
// While the sweep runs it reads them again.
import { useId, useState } from "react";
import { api, type KeyValues, type RunSummary, type Series } from "./api";
import { axisScale } from "./axisScale";
import { formatNumber } from "./format";
import { href } from "./route";
import { StatusBadge } from "./StatusBadge";
import {
  bestTrial, hyperparameterNames, POLICY_NAMES, seriesOfTrials, sortTrials, trialRows, type SweepDefinition, type TrialRow, type TrialSort,
} from "./trials";
import { useFetch } from "./useFetch";
import { useRefreshWhile } from "./useRefreshWhile";

const REFRESH_MS = 3000;
const MAX_TRIALS = 1000;
/** points per trial: the server keeps each bucket's lowest and highest, so the best is among them */
const POINTS = 64;
/** the most runs one series request takes */
const RUNS_PER_REQUEST = 100;

interface Loaded {
  children: RunSummary[];
  properties: KeyValues[];
  series: Series[];
}

async function load(runId: string, metric: string): Promise<Loaded> {
  const page = await api.queryRuns({ parent_id: runId, sort: "created_at", descending: false, limit: MAX_TRIALS });
  // a pipeline trial's metric is logged by its steps (HyperDriveRun scores it over them)
  const trialOf: Record<string, string> = {};
  await Promise.all(page.runs.filter((run) => run.run_type === "pipeline").map(async (trial) => {
    const steps = await api.queryRuns({ parent_id: trial.run_id, limit: MAX_TRIALS });
    for (const step of steps.runs) trialOf[step.run_id] = trial.run_id;
  }));
  const ids = [...page.runs.map((run) => run.run_id), ...Object.keys(trialOf)];
  const chunks = Array.from({ length: Math.ceil(ids.length / RUNS_PER_REQUEST) },
                            (_, k) => ids.slice(k * RUNS_PER_REQUEST, (k + 1) * RUNS_PER_REQUEST));
  const series = await Promise.all(
    chunks.map((run_ids) => api.series({ run_ids, name: metric, points: POINTS, start: 0, end: null })));
  // each trial's properties (its hyperparameters, a policy's stop) come with the page
  const properties = page.runs.map((run) => page.properties[run.run_id] ?? {});
  return { children: page.runs, properties, series: seriesOfTrials(series.flat(), trialOf) };
}

export function TrialsSection({ runId, sweep, live }: { runId: string; sweep: SweepDefinition; live: boolean }) {
  const loaded = useFetch(() => load(runId, sweep.metric), `${runId}/trials`);
  useRefreshWhile(live, REFRESH_MS, loaded.reload);
  if (loaded.error) return <p role="alert" className="error">{loaded.error}</p>;
  if (!loaded.data) return <p className="muted">Loading trials…</p>;
  const { children, properties, series } = loaded.data;
  if (children.length === 0) return <p className="muted">No trials yet.</p>;
  const trials = trialRows(children, properties, series, sweep);
  const names = hyperparameterNames(trials);
  const best = bestTrial(trials, sweep.maximize);
  return (
    <>
      <p className="muted in-text">
        {trials.length}{sweep.maxTrials ? ` of at most ${sweep.maxTrials}` : ""} {trials.length === 1 ? "trial" : "trials"}
        {sweep.sampling && `, ${sweep.sampling} sampling`}
        {`, ${sweep.policy ? `stopped early by ${POLICY_NAMES[sweep.policy] ?? sweep.policy}` : "no early termination"}`};
        primary metric {sweep.metric} ({sweep.maximize ? "higher" : "lower"} is better, a trial's best value)
        {best && <>; best: <a href={href.run(best.runId)}>{best.name}</a> {formatNumber(best.score)}</>}
      </p>
      <TrialsChart trials={trials} names={names} metric={sweep.metric} best={best} />
      <TrialsTable trials={trials} names={names} metric={sweep.metric} best={best} />
    </>
  );
}

function TrialsTable({ trials, names, metric, best }: {
  trials: TrialRow[]; names: string[]; metric: string; best: TrialRow | undefined;
}) {
  const [sort, setSort] = useState<TrialSort>({ key: "index", descending: false });
  const sorted = sortTrials(trials, sort);
  const columns = [
    { key: "index", label: "Trial" },
    { key: "status", label: "Status" },
    ...names.map((name) => ({ key: `value:${name}`, label: name })),
    { key: "score", label: metric },
  ];
  const sortBy = (key: string) =>
    setSort((now) => ({ key, descending: now.key === key ? !now.descending : key === "score" }));
  const show = (value: unknown) => (typeof value === "number" ? formatNumber(value) : value == null ? "" : String(value));
  return (
    <div className="wide">
      <table aria-label="Trials" className="trials">
        <thead>
          <tr>
            {columns.map((column) => {
              const direction = sort.key !== column.key ? "none" : sort.descending ? "descending" : "ascending";
              return (
                <th key={column.key} scope="col" aria-sort={direction}>
                  <button type="button" className="sort" onClick={() => sortBy(column.key)}>
                    {column.label}
                    <span aria-hidden="true">{direction === "ascending" ? " ▲" : direction === "descending" ? " ▼" : ""}</span>
                  </button>
                </th>
              );
            })}
            <th scope="col">Stopped by</th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((trial) => (
            <tr key={trial.runId} className={trial === best ? "best" : undefined}>
              <td>
                <a href={href.run(trial.runId)}>{trial.index ?? trial.name}</a>
                {trial === best && <span className="best-mark"> (best)</span>}
              </td>
              <td><StatusBadge status={trial.status} /></td>
              {names.map((name) => <td key={name}>{show(trial.values[name])}</td>)}
              <td>{formatNumber(trial.score)}</td>
              <td>{trial.stoppedBy ? <span className="stopped">stopped: {trial.stoppedBy}</span> : ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const WIDTH = 560;
const HEIGHT = 260;
const PAD = { left: 64, right: 20, top: 14, bottom: 44 };

function TrialsChart({ trials, names, metric, best }: {
  trials: TrialRow[]; names: string[]; metric: string; best: TrialRow | undefined;
}) {
  const [picked, setPicked] = useState<string | undefined>(undefined);
  const selectId = useId();
  const name = picked !== undefined && names.includes(picked) ? picked : names[0];
  const scored = trials.filter((trial) => trial.score !== null);
  if (name === undefined) return null;
  if (scored.length === 0) return <p className="muted">No trial has logged {metric} yet.</p>;
  const x = axisScale(scored.map((trial) => trial.values[name]));
  const y = axisScale(scored.map((trial) => trial.score));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  // points stay off the axes' lines: 0..1 spans the middle 92% of each axis
  const px = (at: number) => PAD.left + (0.04 + 0.92 * at) * plotW;
  const py = (at: number) => PAD.top + (1 - (0.04 + 0.92 * at)) * plotH;
  const stopped = scored.filter((trial) => trial.stoppedBy).length;
  return (
    <figure className="trials-chart">
      <figcaption>
        <label htmlFor={selectId}>{metric} against </label>
        <select id={selectId} value={name} onChange={(e) => setPicked(e.target.value)}>
          {names.map((n) => <option key={n} value={n}>{n}</option>)}
        </select>{" "}
        <span className="muted">
          ● completed or running, ✕ stopped by the policy ({stopped}), ring: the best
        </span>
      </figcaption>
      <svg width={WIDTH} height={HEIGHT} role="group"
           aria-label={`Chart of ${metric} against ${name} for ${scored.length} trials; each point links to its trial, the table below has the same values`}>
        <line x1={PAD.left} y1={PAD.top + plotH} x2={PAD.left + plotW} y2={PAD.top + plotH} className="axis" />
        <line x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={PAD.top + plotH} className="axis" />
        {x.ticks.map((tick) => (
          <text key={`x${tick.label}`} x={px(tick.at)} y={PAD.top + plotH + 16} textAnchor="middle" className="tick">{tick.label}</text>
        ))}
        {y.ticks.map((tick) => (
          <text key={`y${tick.label}`} x={PAD.left - 6} y={py(tick.at) + 4} textAnchor="end" className="tick">{tick.label}</text>
        ))}
        <text x={PAD.left + plotW / 2} y={HEIGHT - 6} textAnchor="middle" className="axis-label">{name}</text>
        {scored.map((trial) => {
          const at = x.position(trial.values[name]);
          if (at === undefined) return null;
          const cx = px(at);
          const cy = py(y.position(trial.score)!);
          const says = `trial ${trial.index ?? trial.name}: ${name} ${String(trial.values[name])}, ${metric} `
            + `${formatNumber(trial.score)}${trial.stoppedBy ? ", stopped" : ""}${trial === best ? ", the best" : ""}`;
          return (
            <a key={trial.runId} href={href.run(trial.runId)} aria-label={says} data-trial={trial.index ?? trial.runId}
               className={trial.stoppedBy ? "point stopped" : "point"}>
              <title>{says}</title>
              {trial.stoppedBy
                ? <path d={`M${cx - 5},${cy - 5}L${cx + 5},${cy + 5}M${cx - 5},${cy + 5}L${cx + 5},${cy - 5}`} />
                : <circle cx={cx} cy={cy} r={5} />}
              {trial === best && <circle cx={cx} cy={cy} r={10} className="best-ring" />}
            </a>
          );
        })}
      </svg>
    </figure>
  );
}
