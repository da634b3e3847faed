// One run: what it is and how it went (status and its history, times, target, error), a
// pipeline's graph, a parallel step's partition table, a sweep's trials or an AutoML run's leaderboard, its properties and tags,
// a chart per scalar metric and the tables and images it logged, its live logs, child runs,
// files, source snapshot, and the datasets and models it read and wrote. While the run is
// live the page reads it again every few seconds.
import { lazy, Suspense, useId, useState, type ReactNode } from "react";
import { api, errorMessage, TERMINAL, type MetricName, type RunRow } from "./api";
import { AutoMLSection } from "./AutoMLSection";
import { BEST_TAG } from "./automl";
import { FileList } from "./FileList";
import { formatDuration, formatTime } from "./format";
import { KeyValueTable } from "./KeyValueTable";
import { LiveLog } from "./LiveLog";
import { LoggedValue } from "./LoggedValue";
import { MetricChart } from "./MetricChart";
import { keepsPartitionTable } from "./partitions";
import { PartitionsSection } from "./PartitionsSection";
import { href } from "./route";
import { RunLineage } from "./RunLineage";
import { RunsTable } from "./RunsTable";
import { SnapshotFiles } from "./SnapshotFiles";
import { StatusBadge } from "./StatusBadge";
import { sweepDefinition } from "./trials";
import { TrialsSection } from "./TrialsSection";
import { useDocumentTitle } from "./useDocumentTitle";
import { useFetch } from "./useFetch";
import { useRefreshWhile } from "./useRefreshWhile";

// the graph library loads only for a pipeline's run (most runs' pages never need it)
const PipelineGraph = lazy(() => import("./PipelineGraph").then((m) => ({ default: m.PipelineGraph })));

const LIVE_REFRESH_MS = 2000;

function Section({ title, children }: { title: string; children: ReactNode }) {
  const id = useId();
  return (
    <section className="panel" aria-labelledby={id}>
      <h3 id={id}>{title}</h3>
      {children}
    </section>
  );
}

export function RunDetail({ runId }: { runId: string }) {
  const run = useFetch(() => api.run(runId), runId);
  const events = useFetch(() => api.statusEvents(runId), runId);
  const properties = useFetch(() => api.properties(runId), runId);
  const tags = useFetch(() => api.tags(runId), runId);
  const metrics = useFetch(() => api.metricNames(runId), runId);
  const live = run.data !== undefined && !TERMINAL.has(run.data.status);
  // properties too: a parallel step's run says it keeps a partition table when it ends
  useRefreshWhile(live, LIVE_REFRESH_MS, run.reload, events.reload, properties.reload, tags.reload, metrics.reload);
  useDocumentTitle(run.data && `${run.data.status} · ${run.data.display_name ?? run.data.run_id}`);

  if (run.error) return <p role="alert" className="error">{run.error}</p>;
  if (!run.data) return <p className="muted">Loading run…</p>;
  const row = run.data;
  const sweep = row.run_type === "hyperdrive" || row.run_type === "automl" ? sweepDefinition(row.definition) : undefined;
  return (
    <article className="run-detail">
      <header className="run-header">
        <h2>{row.display_name ?? row.run_id}</h2>
        <StatusBadge status={row.status} />
        {live && <CancelButton runId={runId} onCanceled={run.reload} />}
      </header>
      <Overview row={row} />
      {row.error && <pre className="run-error" aria-label="Error">{row.error}</pre>}
      {row.run_type === "pipeline" && (
        <Section title="Pipeline">
          <Suspense fallback={<p className="muted" role="status">loading the graph…</p>}>
            <PipelineGraph runId={runId} live={live} />
          </Suspense>
        </Section>
      )}
      {sweep && row.run_type === "hyperdrive" && (
        <Section title="Trials"><TrialsSection runId={runId} sweep={sweep} live={live} /></Section>
      )}
      {sweep && row.run_type === "automl" && (
        <Section title="AutoML">
          <AutoMLSection runId={runId} sweep={sweep} bestRunId={tags.data?.[BEST_TAG]} live={live} />
        </Section>
      )}
      {keepsPartitionTable(properties.data) && (
        <PartitionsSection runId={runId} frame={(body) => <Section title="Partitions">{body}</Section>} />
      )}
      <Section title="Logs"><LiveLog runId={runId} live={live} /></Section>
      <Section title="Metrics"><Metrics runId={runId} names={metrics.data} error={metrics.error} live={live} /></Section>
      <div className="columns">
        <Section title="Properties"><KeyValueTable label="Properties" values={properties.data} /></Section>
        <Section title="Tags"><KeyValueTable label="Tags" values={tags.data} /></Section>
        <Section title="Status history">
          <table aria-label="Status history">
            <tbody>
              {events.data?.map((event, k) => (
                <tr key={k}><td><StatusBadge status={event.status} /></td><td>{formatTime(event.time)}</td></tr>
              ))}
            </tbody>
          </table>
        </Section>
      </div>
      <Section title="Child runs"><RunsTable label="Child runs" parentId={runId} maxHeight={320} /></Section>
      <Section title="Files"><FileList runId={runId} /></Section>
      <Section title="Lineage"><RunLineage runId={runId} /></Section>
      {row.snapshot_hash && <Section title="Source snapshot"><SnapshotFiles hash={row.snapshot_hash} /></Section>}
    </article>
  );
}

function Overview({ row }: { row: RunRow }) {
  const facts: [string, ReactNode][] = [
    ["Run id", row.run_id],
    ["Experiment", <a href={href.experiment(row.experiment)}>{row.experiment}</a>],
    ["Parent run", row.parent_id ? <a href={href.run(row.parent_id)}>{row.parent_id}</a> : "—"],
    ["Type", row.run_type],
    ["Target", row.target ?? "—"],
    ["Created", formatTime(row.created_at)],
    ["Started", formatTime(row.start_time) || "—"],
    ["Ended", formatTime(row.end_time) || "—"],
    ["Duration", formatDuration(row.start_time, row.end_time) || "—"],
    ["Exit code", row.exit_code ?? "—"],
    ["Environment", row.environment_name ? `${row.environment_name} ${row.environment_version ?? ""}` : "—"],
  ];
  return (
    <dl className="overview">
      {facts.map(([term, value]) => (
        <div key={term}><dt>{term}</dt><dd>{value}</dd></div>
      ))}
    </dl>
  );
}

function CancelButton({ runId, onCanceled }: { runId: string; onCanceled: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const cancel = () => {
    setBusy(true);
    setError(undefined);
    api.cancel(runId).then(onCanceled, (e: unknown) => setError(errorMessage(e))).finally(() => setBusy(false));
  };
  return (
    <>
      <button type="button" onClick={cancel} disabled={busy}>{busy ? "Canceling…" : "Cancel run"}</button>
      {error && <span role="alert" className="error">{error}</span>}
    </>
  );
}

function Metrics({ runId, names, error, live }: {
  runId: string; names: MetricName[] | undefined; error: string | undefined; live: boolean;
}) {
  if (error) return <p role="alert" className="error">{error}</p>;
  if (!names) return <p className="muted">Loading metrics…</p>;
  if (names.length === 0) return <p className="muted">No metrics logged.</p>;
  const scalars = names.filter((metric) => metric.kind === "scalar");
  const others = names.filter((metric) => metric.kind !== "scalar");
  return (
    <>
      <div className="charts">
        {scalars.map((metric) => <MetricChart key={metric.name} name={metric.name} runIds={[runId]} live={live} />)}
      </div>
      {others.length > 0 && (
        <div className="charts">
          {others.map((metric) => <LoggedValue key={`${metric.kind}:${metric.name}`} runId={runId} metric={metric} />)}
        </div>
      )}
    </>
  );
}
