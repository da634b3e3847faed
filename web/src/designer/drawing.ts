// The canvas's nodes and edges (React Flow's) and the drawing the server saves (its graph),
// each made from the other: a node carries its module and parameters, an edge's handles are
// the ports it joins.
import type { Edge, Node } from "@xyflow/react";
import type { DesignerEdge, DesignerGraph, ModuleSpec, ParamValue, PipelineStep, Problem } from "../api";
import { edgeId } from "./connections";

export type ModuleNodeData = {
  module: ModuleSpec;
  params: Record<string, ParamValue>;
  /** what the last save found on this node */
  problems: Problem[];
  /** its step in the pipeline run submitted from the canvas */
  step?: PipelineStep;
};
export type ModuleNode = Node<ModuleNodeData, "module">;

export function nodeLabel(id: string, module: ModuleSpec): string {
  return `${id} (${module.title})`;
}

export function flowNodes(graph: DesignerGraph, modules: Map<string, ModuleSpec>): ModuleNode[] {
  return graph.nodes.flatMap((node) => {
    const module = modules.get(node.module);
    if (!module) return [];
    return [{ id: node.id, type: "module" as const, position: node.position, ariaLabel: nodeLabel(node.id, module),
              data: { module, params: node.params, problems: [] } }];
  });
}

export function flowEdge(edge: DesignerEdge): Edge {
  return { id: edgeId(edge), source: edge.source, sourceHandle: edge.source_port, target: edge.target,
           targetHandle: edge.target_port,
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
      params: Object.fromEntries(Object.entries(node.data.params).filter(([, value]) => value !== null && value !== undefined)),
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
