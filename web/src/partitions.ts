// A ParallelRunStep run's partition table as the run's page shows it (the server sends it a
// page at a time: GET /runs/{id}/partitions): which runs keep one, how a row's partition keys,
// error and models read, and where a page starts.

/** properties of a step's run that say it keeps a partition table (runyard.pipeline._parallel.table
 * sets the first when the table is written; a reused step's run reads the run it reused) */
export const UNFINISHED_PROPERTY = "runyard.parallel.unfinished";
export const REUSED_RUN_PROPERTY = "azureml.reusedrunid";
export const PARTITION_STATUSES = ["Succeeded", "Failed", "NotRun"] as const;
export const PAGE_SIZE = 100;

export function keepsPartitionTable(properties: Record<string, unknown> | undefined): boolean {
  if (!properties) return false;
  return UNFINISHED_PROPERTY in properties || REUSED_RUN_PROPERTY in properties;
}

/** {"store": "1", "region": "west"} -> "store=1, region=west" */
export function partitionLabel(partition: Record<string, unknown> | null | undefined): string {
  if (!partition) return "";
  return Object.entries(partition).map(([key, value]) => `${key}=${String(value)}`).join(", ");
}

export function firstLine(text: string | null | undefined): string {
  return text ? (text.split("\n", 1)[0] ?? "") : "";
}

/** a registered model's id, "NAME:VERSION" (a name may hold colons: the version is after the last) */
export function modelOf(id: string): { name: string; version?: number } {
  const cut = id.lastIndexOf(":");
  const version = Number(id.slice(cut + 1));
  return cut > 0 && Number.isInteger(version) && version >= 1 ? { name: id.slice(0, cut), version } : { name: id };
}

/** the offset of the page that holds row `offset` after the filter changed or rows went away */
export function clampOffset(offset: number, total: number, pageSize = PAGE_SIZE): number {
  if (total <= 0) return 0;
  const last = Math.floor((total - 1) / pageSize) * pageSize;
  return Math.min(Math.max(0, Math.floor(offset / pageSize) * pageSize), last);
}

/** "101–200 of 10,000" */
export function pageLabel(offset: number, shown: number, total: number): string {
  if (total === 0 || shown === 0) return `0 of ${total.toLocaleString("en-US")}`;
  return `${(offset + 1).toLocaleString("en-US")}–${(offset + shown).toLocaleString("en-US")} of ${total.toLocaleString("en-US")}`;
}
