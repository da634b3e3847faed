import { describe, expect, it } from "vitest";
import type { DesignerGraph, ModuleSpec, PipelineStep } from "../api";
import { flowEdge, flowNodes, paramValue, stepState, toGraph } from "./drawing";

const split: ModuleSpec = {
  name: "split_data", title: "Split Data", category: "Data Transformation", description: "",
  inputs: [{ name: "input", type: "dataframe", optional: false, description: "" }],
  outputs: [{ name: "output1", type: "dataframe", optional: false, description: "" }],
  params: [{ name: "fraction", kind: "number", default: 0.7, required: false, choices: [], description: "" },
           { name: "seed", kind: "integer", default: 0, required: false, choices: [], description: "" }],
};
const modules = new Map([["split_data", split]]);

describe("drawing", () => {
  it("draws a saved graph and saves it back as it was", () => {
    const graph: DesignerGraph = {
      description: "d", experiment_name: null,
      nodes: [{ id: "a", module: "split_data", params: { fraction: 0.5 }, position: { x: 10, y: 20 } },
              { id: "b", module: "split_data", params: {}, position: { x: 250, y: 20 } }],
      edges: [{ source: "a", source_port: "output1", target: "b", target_port: "input" }],
    };
    const nodes = flowNodes(graph, modules);
    expect(nodes.map((node) => node.ariaLabel)).toEqual(["a (Split Data)", "b (Split Data)"]);
    const edges = graph.edges.map(flowEdge);
    expect(edges[0]).toMatchObject({ source: "a", sourceHandle: "output1", target: "b", targetHandle: "input" });
    expect(toGraph(nodes, edges, graph)).toEqual(graph);
  });

  it("lays out a graph saved without positions in columns by its edges", () => {
    const at0 = { x: 0, y: 0 };
    const graph: DesignerGraph = {
      nodes: [{ id: "b", module: "split_data", params: {}, position: at0 },
              { id: "a", module: "split_data", params: {}, position: at0 },
              { id: "c", module: "split_data", params: {}, position: at0 }],
      edges: [{ source: "a", source_port: "output1", target: "b", target_port: "input" }],
    };
    expect(flowNodes(graph, modules).map((node) => [node.id, node.position])).toEqual([
      ["b", { x: 240, y: 0 }], ["a", { x: 0, y: 0 }], ["c", { x: 0, y: 120 }]]);
  });

  it("leaves out parameters left empty and reads defaults", () => {
    const data = { module: split, params: { fraction: null, seed: 3 } };
    const node = { id: "s", type: "module" as const, position: { x: 0.4, y: 1.6 }, data };
    expect(toGraph([node], [], {}).nodes[0]).toEqual(
      { id: "s", module: "split_data", params: { seed: 3 }, position: { x: 0, y: 2 } });
    expect(paramValue(data, "fraction")).toBe(0.7);
    expect(paramValue(data, "seed")).toBe(3);
  });

  it("says Reused for a step that took an earlier run's outputs", () => {
    const step = { status: "Completed", run_id: "r1", reused_run_id: null } as PipelineStep;
    expect(stepState(step)).toEqual({ status: "Completed", runId: "r1" });
    expect(stepState({ ...step, reused_run_id: "old" })).toEqual({ status: "Reused", runId: "old" });
  });
});
