// A table of runs that stays smooth at 100,000 of them: the server filters (status, text,
// metrics, tags, properties), sorts and pages (POST /runs/query); only the rows on screen are
// in the page (a virtualised table whose spacer rows stand for the rest), and only their pages
// are fetched. The same table lists an experiment's runs, every run, and a run's child runs;
// runs ticked in it are compared side by side.
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from "react";
import { ACTIVE, STATUSES } from "./api";
import { MAX_COMPARED } from "./compare";
import { parseFilter } from "./filterSyntax";
import { formatCount, formatDuration, formatNumber, formatTime } from "./format";
import { href } from "./route";
import { StatusBadge } from "./StatusBadge";
import { useDebounced } from "./useDebounced";
import { useRunPages, type LoadedRow, type PagedRuns, type RunFilter } from "./useRunPages";

const ROW_HEIGHT = 32;
const TICK_WIDTH = 32;
const REFRESH_EVERY_MS = 10_000;
/** sorts whose first click puts the largest (newest, longest) first */
const LARGEST_FIRST = new Set(["created_at", "start_time", "end_time", "duration", "run_number"]);
const ANY_STATUS = "";
const ACTIVE_STATUSES = "active";

interface Column {
  id: string;
  label: string;
  /** the server's sort key */
  sort: string;
  width: number;
  cell: (row: LoadedRow) => ReactNode;
  /** a metric column the user added, and may remove */
  metric?: string;
}

const RUN_COLUMNS: Column[] = [
  {
    id: "run", label: "Run", sort: "display_name", width: 240,
    cell: ({ run }) => <a href={href.run(run.run_id)}>{run.display_name ?? run.run_id}</a>,
  },
  { id: "experiment", label: "Experiment", sort: "experiment", width: 150, cell: ({ run }) => run.experiment },
  { id: "status", label: "Status", sort: "status", width: 120, cell: ({ run }) => <StatusBadge status={run.status} /> },
  { id: "type", label: "Type", sort: "run_type", width: 90, cell: ({ run }) => run.run_type },
  { id: "created", label: "Created", sort: "created_at", width: 160, cell: ({ run }) => formatTime(run.created_at) },
  {
    id: "duration", label: "Duration", sort: "duration", width: 100,
    cell: ({ run }) => formatDuration(run.start_time, run.end_time),
  },
  { id: "target", label: "Target", sort: "target", width: 100, cell: ({ run }) => run.target ?? "" },
];

function metricColumn(name: string): Column {
  return {
    id: `metric:${name}`, label: name, sort: `metric:${name}`, width: 120, metric: name,
    cell: ({ metrics }) => formatNumber(metrics[name]),
  };
}

export interface RunsTableProps {
  /** the table's name for screen readers: "Runs", "Child runs" */
  label: string;
  experiment?: string;
  /** a run's children; without it the table lists top-level runs, or every run on request */
  parentId?: string;
  /** the rows' greatest height in pixels; by default they fill the page below the toolbar */
  maxHeight?: number;
}

export function RunsTable({ label, experiment, parentId, maxHeight }: RunsTableProps) {
  const [text, setText] = useState("");
  const [conditions, setConditions] = useState("");
  const [statusChoice, setStatusChoice] = useState(ANY_STATUS);
  const [withChildren, setWithChildren] = useState(false);
  const [sort, setSort] = useState({ key: "created_at", descending: true });
  const [metricNames, setMetricNames] = useState<string[]>([]);
  const [selected, setSelected] = useState<string[]>([]);
  const filterProblem = useId();
  const searched = useDebounced(text.trim(), 250);
  const parsed = parseFilter(useDebounced(conditions, 400));
  const valid = "error" in parsed ? undefined : parsed;

  const filter: RunFilter = {
    experiment, parent_id: parentId, top_level_only: parentId === undefined && !withChildren ? true : undefined,
    status: statusChoice === ANY_STATUS ? undefined : statusChoice === ACTIVE_STATUSES ? ACTIVE : [statusChoice],
    text: searched || undefined, sort: sort.key, descending: sort.descending,
    columns: metricNames.length ? metricNames : undefined,
    metrics: valid?.metrics.length ? valid.metrics : undefined,
    tags: valid && Object.keys(valid.tags).length ? valid.tags : undefined,
    properties: valid && Object.keys(valid.properties).length ? valid.properties : undefined,
  };
  const runs = useRunPages(filter);

  useEffect(() => {
    const timer = window.setInterval(() => {
      if (document.visibilityState === "visible") runs.refresh();
    }, REFRESH_EVERY_MS);
    return () => window.clearInterval(timer);
  }, [runs.refresh]);

  const columns = [
    // one experiment's runs (a run's children are of its experiment) need no experiment column
    ...RUN_COLUMNS.filter((column) => !((experiment || parentId) && column.id === "experiment")),
    ...metricNames.map(metricColumn),
  ];
  const sortBy = (key: string) =>
    setSort((now) => now.key === key ? { key, descending: !now.descending } : { key, descending: LARGEST_FIRST.has(key) });

  return (
    <div className="runs-table">
      <div className="toolbar">
        <input type="search" aria-label="Search runs" placeholder="Search run id or name" value={text}
               onChange={(e) => setText(e.target.value)} />
        <input aria-label="Filter runs" placeholder="loss < 0.5, tag:team = vision" value={conditions}
               className="conditions" aria-invalid={"error" in parsed}
               aria-describedby={"error" in parsed ? filterProblem : undefined}
               onChange={(e) => setConditions(e.target.value)} />
        <label>
          Status{" "}
          <select value={statusChoice} onChange={(e) => setStatusChoice(e.target.value)}>
            <option value={ANY_STATUS}>any</option>
            <option value={ACTIVE_STATUSES}>active</option>
            {STATUSES.map((status) => <option key={status} value={status}>{status}</option>)}
          </select>
        </label>
        {parentId === undefined && (
          <label>
            <input type="checkbox" checked={withChildren} onChange={(e) => setWithChildren(e.target.checked)} />
            {" "}Include child runs
          </label>
        )}
        <AddMetricColumn onAdd={(name) => setMetricNames((names) => names.includes(name) ? names : [...names, name])} />
        <button type="button" onClick={runs.refresh}>Refresh</button>
        {selected.length > 0 && (
          <span className="selection">
            {selected.length > 1
              ? <a href={href.compare(selected)}>Compare {selected.length} runs</a>
              : <span className="muted">1 run ticked</span>}{" "}
            <button type="button" onClick={() => setSelected([])}>Clear</button>
          </span>
        )}
        <span role="status" className="total">
          {runs.total === undefined ? "loading…" : runs.counting ? `${formatCount(runs.total)}+ runs, counting…`
            : `${formatCount(runs.total)} ${runs.total === 1 ? "run" : "runs"}`}
        </span>
      </div>
      {"error" in parsed && <p role="alert" id={filterProblem} className="error">{parsed.error}</p>}
      {runs.error && <p role="alert" className="error">{runs.error}</p>}
      <VirtualRows label={label} columns={columns} runs={runs} filterKey={JSON.stringify(filter)}
                   sort={sort} onSort={sortBy} maxHeight={maxHeight} selected={selected}
                   onTick={(runId, ticked) => setSelected((now) =>
                     ticked ? [...now, runId].slice(0, MAX_COMPARED) : now.filter((id) => id !== runId))}
                   onRemoveMetric={(name) => {
                     setMetricNames((names) => names.filter((n) => n !== name));
                     if (sort.key === `metric:${name}`) setSort({ key: "created_at", descending: true });
                   }} />
    </div>
  );
}

function AddMetricColumn({ onAdd }: { onAdd: (name: string) => void }) {
  const [name, setName] = useState("");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim()) onAdd(name.trim());
    setName("");
  };
  return (
    <form className="add-column" onSubmit={submit}>
      <input aria-label="Metric column" placeholder="metric name" value={name}
             onChange={(e) => setName(e.target.value)} />
      <button type="submit">Add column</button>
    </form>
  );
}

interface VirtualRowsProps {
  label: string;
  columns: Column[];
  runs: PagedRuns;
  /** the filters and sort: when they change, the table goes back to its top */
  filterKey: string;
  sort: { key: string; descending: boolean };
  onSort: (key: string) => void;
  onRemoveMetric: (name: string) => void;
  maxHeight: number | undefined;
  /** the runs ticked for a comparison */
  selected: string[];
  onTick: (runId: string, ticked: boolean) => void;
}

function VirtualRows(props: VirtualRowsProps) {
  const { label, columns, runs, filterKey, sort, onSort, onRemoveMetric, maxHeight, selected, onTick } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const count = runs.total ?? 0;
  const rows = useVirtualizer({
    count, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: 10,
  });
  const items = rows.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items[items.length - 1]?.index ?? 0;
  const { showRange } = runs;
  useEffect(() => {
    showRange(first, last);
  }, [showRange, first, last]);
  useEffect(() => {
    scroller.current?.scrollTo({ top: 0 }); // (newer browsers return a promise: not a cleanup)
  }, [filterKey]);

  const before = items[0]?.start ?? 0;
  const after = rows.getTotalSize() - (items[items.length - 1]?.end ?? 0);
  return (
    <div className="scroller" ref={scroller} style={maxHeight ? { maxHeight } : undefined}>
      <table aria-label={label} aria-rowcount={count + 1}>
        <colgroup>
          <col style={{ width: TICK_WIDTH }} />
          {columns.map((column) => <col key={column.id} style={{ width: column.width }} />)}
        </colgroup>
        <thead>
          <tr aria-rowindex={1}>
            <th scope="col"><span className="visually-hidden">Compare</span></th>
            {columns.map((column) => (
              <HeaderCell key={column.id} column={column} sort={sort} onSort={onSort} onRemove={onRemoveMetric} />
            ))}
          </tr>
        </thead>
        <tbody>
          {before > 0 && <tr aria-hidden="true" style={{ height: before }} />}
          {items.map((item) => {
            const row = runs.row(item.index);
            return (
              <tr key={item.index} aria-rowindex={item.index + 2} style={{ height: ROW_HEIGHT }}>
                <td>
                  {row && (
                    <input type="checkbox" aria-label={`Compare ${row.run.display_name ?? row.run.run_id}`}
                           checked={selected.includes(row.run.run_id)}
                           disabled={selected.length >= MAX_COMPARED && !selected.includes(row.run.run_id)}
                           onChange={(e) => onTick(row.run.run_id, e.target.checked)} />
                  )}
                </td>
                {columns.map((column) => <td key={column.id}>{row ? column.cell(row) : "…"}</td>)}
              </tr>
            );
          })}
          {after > 0 && <tr aria-hidden="true" style={{ height: after }} />}
        </tbody>
      </table>
      {runs.total === 0 && <p className="empty">No runs match.</p>}
    </div>
  );
}

interface HeaderCellProps {
  column: Column;
  sort: { key: string; descending: boolean };
  onSort: (key: string) => void;
  onRemove: (metric: string) => void;
}

function HeaderCell({ column, sort, onSort, onRemove }: HeaderCellProps) {
  const direction = sort.key !== column.sort ? "none" : sort.descending ? "descending" : "ascending";
  return (
    <th scope="col" aria-sort={direction}>
      <button type="button" className="sort" onClick={() => onSort(column.sort)}>
        {column.label}
        <span aria-hidden="true">{direction === "ascending" ? " ▲" : direction === "descending" ? " ▼" : ""}</span>
      </button>
      {column.metric !== undefined && (
        <button type="button" className="remove" aria-label={`Remove column ${column.metric}`}
                onClick={() => onRemove(column.metric!)}>×</button>
      )}
    </th>
  );
}
