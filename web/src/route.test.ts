import { describe, expect, it } from "vitest";
import { href, parseRoute } from "./route";

describe("routes", () => {
  it("reads the page from the address's hash", () => {
    expect(parseRoute("")).toEqual({ page: "runs" });
    expect(parseRoute("#/")).toEqual({ page: "runs" });
    expect(parseRoute("#/experiments/mnist")).toEqual({ page: "runs", experiment: "mnist" });
    expect(parseRoute("#/runs/mnist_1_ab")).toEqual({ page: "run", runId: "mnist_1_ab" });
    expect(parseRoute("#/nowhere")).toEqual({ page: "runs" });
    expect(parseRoute("#/designer")).toEqual({ page: "drawings" });
    expect(parseRoute("#/designer/price")).toEqual({ page: "drawing", name: "price" });
    expect(parseRoute("#/models")).toEqual({ page: "assets", kind: "model" });
    expect(parseRoute("#/datasets/raw")).toEqual({ page: "assets", kind: "dataset", name: "raw" });
    expect(parseRoute("#/models/churn/3")).toEqual({ page: "assets", kind: "model", name: "churn", version: 3 });
    expect(parseRoute("#/models/churn/zero")).toEqual({ page: "assets", kind: "model", name: "churn" });
    expect(parseRoute("#/pipelines")).toEqual({ page: "pipelines" });
  });

  it("writes addresses it reads back", () => {
    expect(parseRoute(href.experiment("a b/c"))).toEqual({ page: "runs", experiment: "a b/c" });
    expect(parseRoute(href.run("run_1"))).toEqual({ page: "run", runId: "run_1" });
    expect(parseRoute(href.compare(["a_1", "b.2"]))).toEqual({ page: "compare", runIds: ["a_1", "b.2"] });
    expect(parseRoute(href.drawing("price-2"))).toEqual({ page: "drawing", name: "price-2" });
    expect(parseRoute(href.drawings())).toEqual({ page: "drawings" });
    expect(parseRoute(href.asset("dataset"))).toEqual({ page: "assets", kind: "dataset" });
    expect(parseRoute(href.asset("model", "a b", 2))).toEqual({ page: "assets", kind: "model", name: "a b", version: 2 });
    expect(parseRoute(href.pipelines())).toEqual({ page: "pipelines" });
  });
});
