// The runs table's filter box: conditions separated by commas, each a metric's latest value
// compared with a number (`loss < 0.5`), a tag or property with a value (`tag:team = vision`,
// `property:seed = 42`), or just present (`tag:reviewed`). What the server's run query takes
// as metrics, tags and properties.
import type { MetricFilter } from "./api";

export interface ParsedFilter {
  metrics: MetricFilter[];
  tags: Record<string, string | null>;
  properties: Record<string, string | null>;
}

/** the first operator of a condition: at the leftmost place, the longest */
const OPERATOR = /<=|>=|!=|<|>|=/;
const NAMED = /^(tag|property):(.+)$/;

/** The filters of `text`, or what is wrong with it, naming the condition. */
export function parseFilter(text: string): ParsedFilter | { error: string } {
  const parsed: ParsedFilter = { metrics: [], tags: {}, properties: {} };
  for (const condition of text.split(",").map((part) => part.trim()).filter(Boolean)) {
    const found = OPERATOR.exec(condition);
    const op = found?.[0] as MetricFilter["op"] | undefined;
    const left = (found ? condition.slice(0, found.index) : condition).trim();
    const right = found ? condition.slice(found.index + found[0].length).trim() : undefined;
    const named = NAMED.exec(left);
    if (named) {
      const kind = named[1] === "tag" ? "tag" : "property";
      if (op !== undefined && op !== "=") return { error: `${condition}: a ${kind} is compared with = only` };
      if (right === "") return { error: `${condition}: no value after =` };
      (kind === "tag" ? parsed.tags : parsed.properties)[named[2]!.trim()] = right ?? null;
      continue;
    }
    if (op === undefined || !left) {
      return { error: `${condition}: write metric < number, tag:key = value or property:key = value` };
    }
    const value = Number(right);
    if (right === "" || !Number.isFinite(value)) return { error: `${condition}: ${right || "nothing"} is not a number` };
    parsed.metrics.push({ name: left, op, value });
  }
  return parsed;
}
