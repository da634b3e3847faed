// The canvas's nodes and edges (React Flow's) and the drawing the server saves (its graph),
// each made from the other: a node carries its module and parameters, an edge's handles are
// the ports it joins.
import { MarkerType, type Edge, type Node } from "@xyflow/react";
import type { DesignerEdge, DesignerGraph, ModuleSpec, ParamValue, PipelineStep } from "../api";
import { layout } from "../pipelineLayout";
import { edgeId } from "./connections";
import { CELL } from "./placement";

// (what the last save found and the submitted run's steps reach the nodes through
// NodeFindings, not in their data: a node object given again while React Flow measures it
// would lose its ports' places, and its edges would not be drawn)
export type ModuleNodeData = {
  module: ModuleSpec;
  params: Record<string, ParamValue>;
};
export type ModuleNode = Node<ModuleNodeData, "module">;

export function nodeLabel(id: string, module: ModuleSpec): string {
  return `${id} (${module.title})`;
}

export function flowNodes(graph: DesignerGraph, modules: Map<string, ModuleSpec>): ModuleNode[] {
  const places = placed(graph);
  return graph.nodes.flatMap((node) => {
    const module = modules.get(node.module);
    if (!module) return [];
    return [{ id: node.id, type: "module" as const, position: places.get(node.id)!,
              ariaLabel: nodeLabel(node.id, module), data: { module, params: node.params } }];
  });
}

/** where each node is drawn: where it was saved, or, when every node is at one spot (a
 * pipeline.yml written by hand, without the designer's positions), in columns by its edges */
function placed(graph: DesignerGraph): Map<string, { x: number; y: number }> {
  const first = graph.nodes[0]?.position;
  const stacked = graph.nodes.length > 1
    && graph.nodes.every((node) => node.position.x === first?.x && node.position.y === first?.y);
  if (!stacked) return new Map(graph.nodes.map((node) => [node.id, node.position]));
  const steps = graph.nodes.map((node) => ({
    name: node.id, upstream: graph.edges.filter((edge) => edge.target === node.id).map((edge) => edge.source),
  }));
  return new Map(layout(steps).placed.map(({ name, column, row }) =>
    [name, { x: column * CELL.width, y: row * CELL.height }]));
}

export function flowEdge(edge: DesignerEdge): Edge {
  return { id: edgeId(edge), source: edge.source, sourceHandle: edge.source_port, target: edge.target,
           targetHandle: edge.target_port, markerEnd: { type: MarkerType.ArrowClosed },
           ariaLabel: `edge from ${edge.source} ${edge.source_port} to ${edge.target} ${edge.target_port}` };
}

export function designerEdge(edge: Edge): DesignerEdge {
  return { source: edge.source, source_port: edge.sourceHandle ?? "", target: edge.target,
           target_port: edge.targetHandle ?? "" };
}

/** the graph to save: parameters left empty are left out (the server fills in defaults) */
export function toGraph(nodes: ModuleNode[], edges: Edge[],
                        settings: { description?: string | null; experiment_name?: string | null }): DesignerGraph {
  return {
    description: settings.description || null,
    experiment_name: settings.experiment_name || null,
    nodes: nodes.map((node) => ({
      id: node.id, module: node.data.module.name,
      params: Object.fromEntries(Object.entries(node.data.params)
        .filter(([, value]) => value !== null && value !== undefined)),
      position: { x: Math.round(node.position.x), y: Math.round(node.position.y) },
    })),
    edges: edges.map(designerEdge),
  };
}

/** a step's state as the canvas shows it: Reused when it took an earlier run's outputs */
export function stepState(step: PipelineStep): { status: string; runId: string | null } {
  if (step.reused_run_id) return { status: "Reused", runId: step.reused_run_id };
  return { status: step.status, runId: step.run_id };
}

/** a parameter's value as the pipeline runs it: what the node sets, else the default */
export function paramValue(node: ModuleNodeData, name: string): ParamValue {
  const set = node.params[name];
  if (set !== undefined && set !== null) return set;
  return node.module.params.find((param) => param.name === name)?.default ?? null;
}
