// Published pipelines, pipeline endpoints and schedules as the Pipelines page lists them, and
// a submission's parameters read from the form: each text box's text becomes the type of the
// parameter (its parameter_types entry, else its default's type), so "3" goes to an int
// parameter as 3 and a bad number is refused before it is sent.
import type { Asset } from "./api";

export type ParameterValue = string | number | boolean;
export type ParameterType = "str" | "int" | "float" | "bool";

export interface Parameter {
  name: string;
  type: ParameterType;
  default: ParameterValue;
}

export interface PublishedPipelineFacts {
  id: string;
  name: string;
  version: string | null;
  description: string | null;
  state: string;
  parameters: Parameter[];
}

function typeOf(value: ParameterValue): ParameterType {
  if (typeof value === "boolean") return "bool";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float";
  return "str";
}

export function publishedPipeline(asset: Asset): PublishedPipelineFacts {
  const spec = asset.spec as {
    definition?: { parameters?: Record<string, ParameterValue> };
    version?: string | null;
    description?: string | null;
    parameter_types?: Record<string, ParameterType> | null;
  };
  const defaults = spec.definition?.parameters ?? {};
  return {
    id: asset.id,
    name: asset.name,
    version: spec.version ?? null,
    description: spec.description ?? null,
    state: asset.state,
    parameters: Object.entries(defaults).map(([name, value]) => ({
      name, default: value, type: spec.parameter_types?.[name] ?? typeOf(value),
    })),
  };
}

export interface EndpointFacts {
  name: string;
  description: string | null;
  defaultVersion: string;
  /** endpoint version -> the published pipeline's id */
  pipelines: { version: string; pipelineId: string }[];
  state: string;
}

export function pipelineEndpoint(asset: Asset): EndpointFacts {
  const spec = asset.spec as {
    description?: string | null; default_version?: string; pipelines?: { version: string; pipeline_id: string }[];
  };
  return {
    name: asset.name,
    description: spec.description ?? null,
    defaultVersion: spec.default_version ?? "",
    pipelines: (spec.pipelines ?? []).map((p) => ({ version: p.version, pipelineId: p.pipeline_id })),
    state: asset.state,
  };
}

export interface ScheduleFacts {
  id: string;
  name: string;
  state: string;
  /** "every 2 Hour(s) at ..." or "when files change in ..." */
  trigger: string;
  pipelineId: string | null;
  endpointId: string | null;
  experiment: string;
  parameters: Record<string, ParameterValue>;
}

export function schedule(asset: Asset): ScheduleFacts {
  const spec = asset.spec as {
    recurrence?: { frequency: string; interval: number; hours?: number[] | null; minutes?: number[] | null;
                   week_days?: string[] | null; time_of_day?: string | null; time_zone?: string | null } | null;
    datastore_path?: string | null; path_on_datastore?: string | null; polling_interval?: number | null;
    pipeline_id?: string | null; pipeline_endpoint_id?: string | null; experiment_name?: string;
    pipeline_parameters?: Record<string, ParameterValue>;
  };
  const r = spec.recurrence;
  let trigger: string;
  if (r) {
    const at = [
      r.week_days?.length ? `on ${r.week_days.join(", ")}` : "",
      r.time_of_day ? `at ${r.time_of_day}` : "",
      r.hours?.length ? `at hours ${r.hours.join(", ")}` : "",
      r.minutes?.length ? `at minutes ${r.minutes.join(", ")}` : "",
      r.time_zone ? `(${r.time_zone})` : "",
    ].filter(Boolean).join(" ");
    trigger = `every ${r.interval} ${r.frequency}${r.interval === 1 ? "" : "s"}${at ? ` ${at}` : ""}`;
  } else {
    const folder = [spec.datastore_path, spec.path_on_datastore].filter(Boolean).join("/");
    trigger = `when files change in ${folder || "a folder"}, polled every ${spec.polling_interval ?? "?"} min`;
  }
  return {
    id: asset.id, name: asset.name, state: asset.state, trigger,
    pipelineId: spec.pipeline_id ?? null, endpointId: spec.pipeline_endpoint_id ?? null,
    experiment: spec.experiment_name ?? "", parameters: spec.pipeline_parameters ?? {},
  };
}

/** the form's text as the parameter's type; throws an Error naming the parameter when it does not fit */
export function parameterValue(parameter: Parameter, text: string): ParameterValue {
  const trimmed = text.trim();
  switch (parameter.type) {
    case "int":
      if (!/^[-+]?\d+$/.test(trimmed)) throw new Error(`${parameter.name}: ${JSON.stringify(text)} is not a whole number`);
      return Number(trimmed);
    case "float": {
      const value = Number(trimmed);
      if (trimmed === "" || !Number.isFinite(value)) throw new Error(`${parameter.name}: ${JSON.stringify(text)} is not a number`);
      return value;
    }
    case "bool":
      if (/^(true|false)$/i.test(trimmed)) return trimmed.toLowerCase() === "true";
      throw new Error(`${parameter.name}: ${JSON.stringify(text)} is not true or false`);
    default:
      return text;
  }
}

/** the parameters the form changed from their defaults, typed */
export function changedParameters(parameters: Parameter[], texts: Record<string, string>): Record<string, ParameterValue> {
  const changed: Record<string, ParameterValue> = {};
  for (const parameter of parameters) {
    const text = texts[parameter.name];
    if (text === undefined || text === String(parameter.default)) continue;
    changed[parameter.name] = parameterValue(parameter, text);
  }
  return changed;
}
