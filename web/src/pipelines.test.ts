import { describe, expect, it } from "vitest";
import type { Asset } from "./api";
import { changedParameters, parameterValue, pipelineEndpoint, publishedPipeline, schedule } from "./pipelines";

const asset = (kind: string, spec: Record<string, unknown>): Asset => ({
  kind, name: "scoring", version: 1, id: "p1", hash: null, spec, state: "active", run_id: null, created_at: 0, updated_at: 0,
});

describe("pipelines", () => {
  it("reads a published pipeline's parameters, typed by parameter_types or their defaults", () => {
    const facts = publishedPipeline(asset("published_pipeline", {
      definition: { parameters: { factor: 2, rate: 0.5, where: "here", flag: true, n: 1.0 } },
      version: "1.0", description: "scores", parameter_types: { n: "float" },
    }));
    expect(facts.parameters.map((p) => [p.name, p.type, p.default])).toEqual([
      ["factor", "int", 2], ["rate", "float", 0.5], ["where", "str", "here"], ["flag", "bool", true], ["n", "float", 1],
    ]);
    expect(facts).toMatchObject({ version: "1.0", description: "scores", id: "p1" });
  });

  it("reads an endpoint and a schedule", () => {
    expect(pipelineEndpoint(asset("pipeline_endpoint", {
      default_version: "1", pipelines: [{ version: "0", pipeline_id: "a" }, { version: "1", pipeline_id: "b" }],
    }))).toMatchObject({ defaultVersion: "1", pipelines: [{ version: "0", pipelineId: "a" }, { version: "1", pipelineId: "b" }] });
    const weekly = schedule(asset("schedule", {
      recurrence: { frequency: "Week", interval: 1, week_days: ["Monday"], time_of_day: "06:30", time_zone: "UTC" },
      pipeline_id: "p1", pipeline_endpoint_id: null, experiment_name: "nightly", pipeline_parameters: { factor: 3 },
    }));
    expect(weekly).toMatchObject({ trigger: "every 1 Week on Monday at 06:30 (UTC)", pipelineId: "p1", experiment: "nightly" });
    expect(schedule(asset("schedule", { recurrence: { frequency: "Hour", interval: 2 } })).trigger).toBe("every 2 Hours");
    expect(schedule(asset("schedule", { recurrence: null, datastore_path: "/data", path_on_datastore: "in", polling_interval: 5 })).trigger)
      .toBe("when files change in /data/in, polled every 5 min");
  });

  it("types the form's text and refuses what does not fit", () => {
    const int = { name: "factor", type: "int" as const, default: 2 };
    expect(parameterValue(int, " 7 ")).toBe(7);
    expect(() => parameterValue(int, "7.5")).toThrow("factor: \"7.5\" is not a whole number");
    expect(parameterValue({ name: "r", type: "float", default: 0.5 }, "1e-3")).toBe(0.001);
    expect(() => parameterValue({ name: "r", type: "float", default: 0.5 }, "")).toThrow("not a number");
    expect(parameterValue({ name: "b", type: "bool", default: true }, "False")).toBe(false);
    expect(parameterValue({ name: "s", type: "str", default: "x" }, " y ")).toBe(" y ");
    expect(changedParameters([int, { name: "where", type: "str", default: "here" }], { factor: "2", where: "there" }))
      .toEqual({ where: "there" });
  });
});
