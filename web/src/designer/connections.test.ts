import { describe, expect, it } from "vitest";
import type { DesignerEdge, ModuleSpec, PortSpec } from "../api";
import { connectableInputs, connectionProblem } from "./connections";

const port = (name: string, type = "dataframe"): PortSpec => ({ name, type, optional: false, description: "" });
const module = (name: string, inputs: PortSpec[], outputs: PortSpec[]): ModuleSpec =>
  ({ name, title: name, category: "", description: "", inputs, outputs, params: [] });
const modules = new Map([
  ["data", module("data", [], [port("output")])],
  ["split", module("split", [port("input")], [port("output1"), port("output2")])],
  ["train", module("train", [port("input")], [port("model", "model")])],
  ["score", module("score", [port("model", "model"), port("input")], [port("output")])],
]);
const nodes = [
  { id: "data", module: "data" }, { id: "split", module: "split" },
  { id: "train", module: "train" }, { id: "score", module: "score" },
];
const moduleOf = (id: string) => modules.get(nodes.find((node) => node.id === id)?.module ?? "");
const edge = (source: string, source_port: string, target: string, target_port: string): DesignerEdge =>
  ({ source, source_port, target, target_port });
const wanted = (source: string, sourcePort: string, target: string, targetPort: string | null) =>
  ({ source, sourcePort, target, targetPort });

describe("connections", () => {
  it("joins ports of one type", () => {
    expect(connectionProblem(wanted("data", "output", "split", "input"), moduleOf, [])).toBeNull();
    expect(connectionProblem(wanted("train", "model", "score", "model"), moduleOf, [])).toBeNull();
  });

  it("refuses a table into a model port and a model into a table port", () => {
    expect(connectionProblem(wanted("data", "output", "score", "model"), moduleOf, []))
      .toBe("data.output gives a dataframe and score.model takes a model");
    expect(connectionProblem(wanted("train", "model", "score", "input"), moduleOf, []))
      .toMatch(/gives a model/);
  });

  it("refuses a second edge into one input, a self-loop, a cycle and unknown ports", () => {
    const edges = [edge("data", "output", "split", "input"), edge("split", "output1", "train", "input")];
    expect(connectionProblem(wanted("split", "output2", "split", "input"), moduleOf, edges)).toMatch(/itself/);
    expect(connectionProblem(wanted("data", "output", "train", "input"), moduleOf, edges)).toMatch(/connected already/);
    const chain = [edge("split", "output1", "score", "input")];
    expect(connectionProblem(wanted("score", "output", "split", "input"), moduleOf, chain)).toMatch(/cycle/);
    expect(connectionProblem(wanted("data", "nope", "split", "input"), moduleOf, [])).toMatch(/no output/);
    expect(connectionProblem(wanted("data", "output", "split", null), moduleOf, [])).toMatch(/no input/);
  });

  it("lists the free inputs of other nodes an output may go to", () => {
    const edges = [edge("data", "output", "split", "input")];
    expect(connectableInputs("data", "output", nodes, modules, edges))
      .toEqual([{ node: "train", port: "input" }, { node: "score", port: "input" }]);
    expect(connectableInputs("train", "model", nodes, modules, edges)).toEqual([{ node: "score", port: "model" }]);
  });
});
