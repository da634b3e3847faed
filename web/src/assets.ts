// Models and datasets as their pages show them: each name with its versions (newest first),
// what a version's spec says of it (tags, properties, description, its files), and its lineage
// both ways: the runs that produced it and the runs that read it.
import type { Asset, LineageRow } from "./api";

export interface AssetName {
  name: string;
  versions: Asset[];
  latest: Asset;
}

export function byName(assets: Asset[]): AssetName[] {
  const groups = new Map<string, Asset[]>();
  for (const asset of assets) groups.set(asset.name, [...(groups.get(asset.name) ?? []), asset]);
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, versions]) => {
      const newest = [...versions].sort((a, b) => b.version - a.version);
      return { name, versions: newest, latest: newest[0]! };
    });
}

type Strings = Record<string, string | null>;

function strings(value: unknown): Strings {
  if (!value || typeof value !== "object" || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v == null ? null : String(v)]));
}

export interface VersionFacts {
  description: string | null;
  tags: Strings;
  properties: Strings;
  /** what else says what the version is: a dataset's type and files, a model's framework and files */
  facts: [string, string][];
  /** its files: a dataset's paths with their sizes, a model's names among its run's files */
  files: { path: string; size: number | null }[];
  /** the datasets a model names (Model.register's datasets: scenario, name, version) */
  datasets: { scenario: string; name: string; version: number }[];
}

export function versionFacts(asset: Asset): VersionFacts {
  const spec = asset.spec;
  const facts: [string, string][] = [];
  const files = Array.isArray(spec["files"]) ? spec["files"] : [];
  if (asset.kind === "dataset") {
    if (typeof spec["type"] === "string") facts.push(["Type", spec["type"]]);
    const sizes = files.map((file) => (file && typeof file === "object" ? Number((file as { size?: unknown }).size) : 0));
    facts.push(["Files", `${files.length} (${sizes.reduce((sum, size) => sum + (Number.isFinite(size) ? size : 0), 0).toLocaleString("en-US")} bytes)`]);
  } else if (asset.kind === "model") {
    if (typeof spec["path"] === "string") facts.push(["Path", spec["path"]]);
    facts.push(["Files", String(files.length)]);
    if (typeof spec["framework"] === "string") {
      facts.push(["Framework", `${spec["framework"]} ${typeof spec["framework_version"] === "string" ? spec["framework_version"] : ""}`.trim()]);
    }
    if (typeof spec["experiment_name"] === "string") facts.push(["Experiment", spec["experiment_name"]]);
  }
  const datasets = Array.isArray(spec["datasets"]) ? spec["datasets"] as VersionFacts["datasets"] : [];
  return {
    description: typeof spec["description"] === "string" ? spec["description"] : null,
    tags: strings(spec["tags"]),
    properties: strings(spec["properties"]),
    facts,
    files: files.map((file) => {
      if (typeof file === "string") return { path: file, size: null };
      const { path, size } = (file ?? {}) as { path?: unknown; size?: unknown };
      return { path: String(path ?? ""), size: typeof size === "number" ? size : null };
    }),
    datasets,
  };
}

export interface VersionLineage {
  /** the runs that wrote it: the lineage's outputs, and the run that registered it */
  producedBy: string[];
  /** the runs that read it, each with the name it had as the run's input */
  readBy: { runId: string; label: string | null }[];
}

export function versionLineage(asset: Asset, rows: LineageRow[]): VersionLineage {
  const own = rows.filter((row) => row.kind === asset.kind && row.name === asset.name && row.version === asset.version);
  const producedBy = [...new Set([
    ...own.filter((row) => row.role === "output").map((row) => row.run_id),
    ...(asset.run_id ? [asset.run_id] : []),
  ])];
  const seen = new Set<string>();
  const readBy = own
    .filter((row) => row.role === "input" && !seen.has(row.run_id) && seen.add(row.run_id))
    .map((row) => ({ runId: row.run_id, label: row.label }));
  return { producedBy, readBy };
}
