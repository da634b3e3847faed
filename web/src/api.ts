// The workspace server's REST API (python/runyard/studio/server.py), typed as its
// response models (api_models.py) are. Every call sends the token when one is known; a 401
// asks for the token (token.ts) and fails with an ApiError like any other refusal.
import { currentToken, tokenRefused } from "./token";

const API = "api/v1"; // relative: the studio is served at the server's root, or under a prefix

export const STATUSES = [
  "NotStarted", "Queued", "Preparing", "Starting", "Running", "Finalizing",
  "CancelRequested", "Completed", "Failed", "Canceled",
] as const;
export type Status = (typeof STATUSES)[number];
export const TERMINAL: ReadonlySet<string> = new Set(["Completed", "Failed", "Canceled"]);
export const ACTIVE: Status[] = STATUSES.filter((status) => !TERMINAL.has(status));

export interface RunSummary {
  run_id: string;
  experiment: string;
  parent_id: string | null;
  run_number: number;
  display_name: string | null;
  run_type: string;
  status: string;
  target: string | null;
  environment_name: string | null;
  environment_version: string | null;
  environment_hash: string | null;
  snapshot_hash: string | null;
  created_at: number;
  start_time: number | null;
  end_time: number | null;
  exit_code: number | null;
  error: string | null;
  host: string | null;
}

export interface RunRow extends RunSummary {
  definition: string | null;
}

export interface MetricFilter {
  name: string;
  op: "<" | "<=" | ">" | ">=" | "=" | "!=";
  value: number;
}

export interface RunQuery {
  experiment?: string;
  parent_id?: string;
  top_level_only?: boolean;
  status?: string[];
  run_type?: string;
  text?: string;
  tags?: Record<string, string | null>;
  properties?: Record<string, string | null>;
  metrics?: MetricFilter[];
  /** a run column, or metric:<name>, tag:<key>, property:<key> */
  sort?: string;
  descending?: boolean;
  offset?: number;
  limit?: number;
  /** metrics whose latest value each run of the page gets */
  columns?: string[];
  /** count the runs the filters match (the default); false: the page comes without waiting for it */
  total?: boolean;
}

export interface RunPage {
  /** null when the query said total: false */
  total: number | null;
  runs: RunSummary[];
  /** run id -> metric column -> latest value */
  metrics: Record<string, Record<string, number | null>>;
  /** run id -> the run's tags (runs without any: absent) */
  tags: Record<string, KeyValues>;
  /** run id -> the run's properties (runs without any: absent) */
  properties: Record<string, KeyValues>;
}

/** a mini batch of a ParallelRunStep's run (api_models.PartitionRow) */
export interface PartitionRow {
  batch_id: string;
  input: string | null;
  partition: Record<string, unknown> | null;
  status: string;
  tries: number;
  duration_s: number | null;
  items: number | null;
  results: number | null;
  error: string | null;
  traceback: string | null;
  reused_from: string | null;
  models: string[];
}

export interface PartitionPage {
  /** mini batches per status, the whole table */
  counts: Record<string, number>;
  /** mini batches the status filter keeps */
  total: number;
  offset: number;
  rows: PartitionRow[];
}

export interface StatusEvent {
  status: string;
  time: number;
}

export interface MetricName {
  name: string;
  kind: string;
  count: number;
  latest: number | null;
}

export interface SeriesRequest {
  run_ids: string[];
  name: string;
  points: number;
  /** the first point, numbered from 0 */
  start: number;
  /** the point after the last; null for the end of the series */
  end: number | null;
}

export interface Series {
  run_id: string;
  count: number;
  downsampled: boolean;
  i: number[];
  value: number[];
  step: (number | null)[];
  logged_at: number[];
}

/** a metric row as stored: a number, or JSON text (a list, a row, a table, an image's file) */
export interface StoredMetric {
  run_id: string;
  name: string;
  kind: string;
  value_num: number | null;
  value_text: string | null;
  logged_at: number;
  step: number | null;
}

export interface LogFile {
  name: string;
  size: number;
}

export interface LogChunk {
  name: string;
  offset: number;
  next_offset: number;
  size: number;
  text: string;
}

export interface PipelineStep {
  name: string;
  kind: string;
  /** the steps it waits for */
  upstream: string[];
  inputs: { name: string; output: string; step: string }[];
  outputs: string[];
  target: string | null;
  /** its step run's status; NotStarted before the driver starts it */
  status: string;
  run_id: string | null;
  /** the run whose outputs it reused (it did not run) */
  reused_run_id: string | null;
  start_time: number | null;
  end_time: number | null;
  duration_seconds: number | null;
  error: string | null;
}

export type KeyValues = Record<string, string | null>;

// -- the designer (python/runyard/designer): its palette, and drawings saved as pipeline YAML

/** a port's type: an edge joins ports of one type */
export interface PortSpec {
  name: string;
  type: string;
  optional: boolean;
  description: string;
}

export interface ParamSpec {
  name: string;
  /** string, number, integer, boolean, choice, columns, code or dataset */
  kind: string;
  default: ParamValue;
  required: boolean;
  choices: string[];
  description: string;
}

export interface ModuleSpec {
  name: string;
  title: string;
  category: string;
  description: string;
  inputs: PortSpec[];
  outputs: PortSpec[];
  params: ParamSpec[];
}

export interface Palette {
  modules: ModuleSpec[];
  /** task -> learner's name -> scikit-learn's class */
  learners: Record<string, Record<string, string>>;
}

export type ParamValue = string | number | boolean | null;

export interface DesignerNode {
  /** the step's name in the YAML */
  id: string;
  module: string;
  params: Record<string, ParamValue>;
  position: { x: number; y: number };
}

export interface DesignerEdge {
  source: string;
  source_port: string;
  target: string;
  target_port: string;
}

export interface DesignerGraph {
  description?: string | null;
  experiment_name?: string | null;
  nodes: DesignerNode[];
  edges: DesignerEdge[];
}

/** what stops a saved drawing from running, on the node it concerns (none: the whole pipeline) */
export interface Problem {
  node: string | null;
  field: string | null;
  message: string;
}

export interface Drawing {
  name: string;
  /** its folder: runyard pipeline submit -f PATH/pipeline.yml runs it */
  path: string;
  graph: DesignerGraph;
  problems: Problem[];
  yaml: string;
}

export const ASSET_KINDS = ["dataset", "model", "published_pipeline", "pipeline_endpoint", "schedule"] as const;
export type AssetKind = (typeof ASSET_KINDS)[number];

/** a registered version of a dataset, model, published pipeline, endpoint or schedule; its
 *  spec is the kind's (python/runyard/store/asset_specs.py) */
export interface Asset {
  kind: string;
  name: string;
  version: number;
  id: string;
  hash: string | null;
  spec: Record<string, unknown>;
  state: string;
  /** the run that registered it (a model from run.register_model, a step's output dataset) */
  run_id: string | null;
  created_at: number;
  updated_at: number;
}

/** that a run read (input) or wrote (output) an asset version */
export interface LineageRow {
  run_id: string;
  role: "input" | "output";
  kind: string;
  name: string;
  version: number;
  /** the input's name in the run */
  label: string | null;
  at: number;
}

export interface LineageQuery {
  run_id?: string;
  kind?: string;
  name?: string;
  version?: number;
  role?: "input" | "output";
}

export interface Firing {
  schedule_id: string;
  slot: string;
  fired_at: number;
  run_id: string | null;
  error: string | null;
}

export interface PipelineSubmission {
  experiment_name: string;
  pipeline_parameters: Record<string, string | number | boolean>;
  pipeline_version?: string;
}

export interface Submitted {
  run_id: string;
  experiment: string;
  status: string;
}

/** A refusal or failure, with the server's message (its JSON `{"error", "message"}`). */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = "ApiError";
  }
}

interface CallOptions {
  body?: unknown;
  /** by default the one kept (token.ts) */
  token?: string | null;
  /** a call its caller no longer needs (a long poll of a view that closed) */
  signal?: AbortSignal;
}

async function call(method: string, path: string, { body, token = currentToken(), signal }: CallOptions = {}) {
  const headers: Record<string, string> = {};
  if (token) headers["Authorization"] = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(`${API}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new ApiError(0, `the server cannot be reached (${e instanceof Error ? e.message : String(e)})`);
  }
  if (response.ok) return response;
  let message = `${response.status} ${response.statusText}`;
  try {
    const error: unknown = await response.json();
    if (error && typeof error === "object" && "message" in error && typeof error.message === "string") {
      message = error.message;
    }
  } catch {
    // not JSON: a proxy's page; the status line says enough
  }
  if (response.status === 401) tokenRefused();
  throw new ApiError(response.status, message);
}

async function json<T>(method: string, path: string, options?: CallOptions): Promise<T> {
  return (await call(method, path, options)).json() as Promise<T>;
}

function queryString(values: Record<string, string | number | undefined>): string {
  const given = Object.entries(values).filter((entry): entry is [string, string | number] => entry[1] !== undefined);
  return given.length === 0 ? "" : `?${given.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&")}`;
}

const run = (runId: string) => `/runs/${encodeURIComponent(runId)}`;
const drawing = (name: string) => `/designer/pipelines/${encodeURIComponent(name)}`;

export const api = {
  workspace: () => json<{ name: string; schema_version: number }>("GET", "/workspace"),
  /** whether the server takes this token (the prompt checks before keeping it) */
  acceptsToken: async (token: string): Promise<boolean> => {
    try {
      await call("GET", "/workspace", { token });
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return false;
      throw e;
    }
  },
  experiments: () => json<string[]>("GET", "/experiments"),
  queryRuns: (query: RunQuery) => json<RunPage>("POST", "/runs/query", { body: query }),
  run: (runId: string) => json<RunRow>("GET", run(runId)),
  cancel: (runId: string) => json<RunRow>("POST", `${run(runId)}/cancel`),
  statusEvents: (runId: string) => json<StatusEvent[]>("GET", `${run(runId)}/status-events`),
  properties: (runId: string) => json<KeyValues>("GET", `${run(runId)}/properties`),
  tags: (runId: string) => json<KeyValues>("GET", `${run(runId)}/tags`),
  partitions: (runId: string, query: { status?: string; offset?: number; limit?: number }) =>
    json<PartitionPage>("GET", `${run(runId)}/partitions${queryString(query)}`),
  pipelineSteps: (runId: string) => json<PipelineStep[]>("GET", `${run(runId)}/pipeline-steps`),
  metricNames: (runId: string) => json<MetricName[]>("GET", `${run(runId)}/metric-names`),
  metricRows: (runId: string, name: string) =>
    json<StoredMetric[]>("POST", "/metrics/query", { body: { run_ids: [runId], name } }),
  series: (request: SeriesRequest) => json<Series[]>("POST", "/metrics/series", { body: request }),
  files: (runId: string) => json<string[]>("GET", `${run(runId)}/files`),
  fileContent: async (runId: string, name: string): Promise<Blob> =>
    (await call("GET", `${run(runId)}/files/content?name=${encodeURIComponent(name)}`)).blob(),
  logs: (runId: string) => json<LogFile[]>("GET", `${run(runId)}/logs`),
  /** the log's text from `offset`; with `wait`, the server answers once there is some (a long poll) */
  readLog: (runId: string, name: string, offset: number, wait: number, signal: AbortSignal) =>
    json<LogChunk>("GET", `${run(runId)}/logs/${encodeURIComponent(name)}?offset=${offset}&wait=${wait}`,
                   { signal }),
  datasets: () => json<Asset[]>("GET", "/assets/dataset"),
  palette: () => json<Palette>("GET", "/designer/modules"),
  drawings: () => json<string[]>("GET", "/designer/pipelines"),
  drawing: (name: string) => json<Drawing>("GET", drawing(name)),
  /** saved with its problems listed; refused (400, naming the field) when it cannot be drawn */
  saveDrawing: (name: string, graph: DesignerGraph) => json<Drawing>("PUT", drawing(name), { body: graph }),
  submitDrawing: (name: string) =>
    json<{ run_id: string; experiment: string; status: string }>("POST", `${drawing(name)}/submit`, { body: {} }),
  publishDrawing: (name: string) =>
    json<{ id: string; name: string; version: string | null }>("POST", `${drawing(name)}/publish`, { body: {} }),
  /** the zip of a run's source folder (content-addressed by its hash) */
  snapshot: async (hash: string): Promise<ArrayBuffer> =>
    (await call("GET", `/snapshots/${encodeURIComponent(hash)}/content`)).arrayBuffer(),
  assets: (kind: AssetKind, name?: string) => json<Asset[]>("GET", `/assets/${kind}${queryString({ name })}`),
  lineage: (query: LineageQuery) => json<LineageRow[]>("GET", `/lineage${queryString({ ...query })}`),
  firings: (scheduleId: string) => json<Firing[]>("GET", `/schedule-firings/${encodeURIComponent(scheduleId)}`),
  submitPublishedPipeline: (pipelineId: string, body: PipelineSubmission) =>
    json<Submitted>("POST", `/published-pipelines/${encodeURIComponent(pipelineId)}/submit`, { body }),
  submitPipelineEndpoint: (endpointName: string, body: PipelineSubmission) =>
    json<Submitted>("POST", `/pipeline-endpoints/${encodeURIComponent(endpointName)}/submit`, { body }),
};

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
