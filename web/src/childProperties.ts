// The properties of a parent's child runs (a sweep's trials, an AutoML run's iterations),
// read again only while they may change, so a page that follows a live parent does not ask
// for every child's every few seconds: an ended child's properties are final, except that a
// sweep writes a stopped trial's "stopped_by" just after it ends Canceled; a Canceled child
// without it is read again.
import { api, TERMINAL, type KeyValues, type RunSummary } from "./api";

export type PropertiesCache = Map<string, KeyValues>;

export function isFinal(child: RunSummary, properties: KeyValues): boolean {
  return TERMINAL.has(child.status) && (child.status !== "Canceled" || "stopped_by" in properties);
}

export async function childProperties(children: RunSummary[], cache: PropertiesCache): Promise<KeyValues[]> {
  return Promise.all(children.map(async (child) => {
    const known = cache.get(child.run_id);
    if (known) return known;
    const properties = await api.properties(child.run_id);
    if (isFinal(child, properties)) cache.set(child.run_id, properties);
    return properties;
  }));
}
