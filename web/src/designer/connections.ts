// Which edges the canvas lets a user draw: from an output port to an input port of the same
// type (a table to a table, a model to a model), of another node, into an input that has no
// edge yet, and not closing a cycle. The server refuses the first three too (a 400 naming the
// edge); refusing them here means an invalid connection cannot be drawn at all.
import type { DesignerEdge, ModuleSpec } from "../api";

/** an edge being drawn: React Flow's connection, its handles named as the ports */
export interface Wanted {
  source: string;
  sourcePort: string | null;
  target: string;
  targetPort: string | null;
}

/** why this edge cannot be drawn, or null when it can */
export function connectionProblem(wanted: Wanted, moduleOf: (node: string) => ModuleSpec | undefined,
                                  edges: DesignerEdge[]): string | null {
  const { source, sourcePort, target, targetPort } = wanted;
  if (source === target) return "a node cannot feed itself";
  const from = moduleOf(source)?.outputs.find((port) => port.name === sourcePort);
  const into = moduleOf(target)?.inputs.find((port) => port.name === targetPort);
  if (!from) return `${source} has no output ${sourcePort ?? ""}`;
  if (!into) return `${target} has no input ${targetPort ?? ""}`;
  if (from.type !== into.type) {
    return `${source}.${from.name} gives a ${from.type} and ${target}.${into.name} takes a ${into.type}`;
  }
  if (edges.some((edge) => edge.target === target && edge.target_port === into.name)) {
    return `${target}.${into.name} is connected already: an input takes one edge`;
  }
  if (reaches(target, source, edges)) return `${target} already leads to ${source}: the edge would close a cycle`;
  return null;
}

function reaches(from: string, to: string, edges: DesignerEdge[]): boolean {
  const seen = new Set<string>();
  const next = [from];
  while (next.length > 0) {
    const node = next.pop()!;
    if (node === to) return true;
    if (seen.has(node)) continue;
    seen.add(node);
    next.push(...edges.filter((edge) => edge.source === node).map((edge) => edge.target));
  }
  return false;
}

export interface PortRef {
  node: string;
  port: string;
}

/** the inputs of other nodes that `source`'s output `port` may be connected to now */
export function connectableInputs(source: string, port: string, nodes: { id: string; module: string }[],
                                  modules: Map<string, ModuleSpec>, edges: DesignerEdge[]): PortRef[] {
  const moduleOf = (id: string) => modules.get(nodes.find((node) => node.id === id)?.module ?? "");
  return nodes.flatMap((node) => (moduleOf(node.id)?.inputs ?? [])
    .filter((input) => connectionProblem({ source, sourcePort: port, target: node.id, targetPort: input.name },
                                         moduleOf, edges) === null)
    .map((input) => ({ node: node.id, port: input.name })));
}

export function edgeId(edge: DesignerEdge): string {
  return `${edge.source}.${edge.source_port}->${edge.target}.${edge.target_port}`;
}
