// A module on the canvas: its title and step name, its ports (inputs on the left, outputs on
// the right, each a handle typed by its class), the problems the last save found on it, and,
// once the pipeline is submitted, its step's state, leading to the step's run.
import { Handle, Position, type NodeProps } from "@xyflow/react";
import { createContext, useContext } from "react";
import type { PipelineStep, PortSpec, Problem } from "../api";
import { href } from "../route";
import { StatusBadge } from "../StatusBadge";
import { stepState, type ModuleNode as ModuleNodeType } from "./drawing";

function Port({ port, kind }: { port: PortSpec; kind: "input" | "output" }) {
  return (
    <div className={`port port-${kind}`}>
      <Handle type={kind === "input" ? "target" : "source"} id={port.name}
              position={kind === "input" ? Position.Left : Position.Right}
              className={`handle-${port.type}`} title={`${kind} ${port.name}: a ${port.type}`} />
      <span>{port.name}</span> <span className="port-type">{port.type === "dataframe" ? "table" : port.type}</span>
    </div>
  );
}

/** what the last save found (every node's problems) and the submitted run's steps by name */
export const NodeFindings = createContext<{ problems: Problem[]; steps: Map<string, PipelineStep> }>(
  { problems: [], steps: new Map() });

export function ModuleNode({ id, data: { module }, selected }: NodeProps<ModuleNodeType>) {
  const findings = useContext(NodeFindings);
  const problems = findings.problems.filter((problem) => problem.node === id);
  const step = findings.steps.get(id);
  const state = step ? stepState(step) : undefined;
  return (
    <div className={`module-node${selected ? " selected" : ""}${problems.length ? " has-problems" : ""}`}>
      <div className="module-title">{module.title}</div>
      <div className="node-id">{id}</div>
      <div className="ports">
        <div>{module.inputs.map((port) => <Port key={port.name} port={port} kind="input" />)}</div>
        <div>{module.outputs.map((port) => <Port key={port.name} port={port} kind="output" />)}</div>
      </div>
      {state && (
        <div className="node-state">
          <StatusBadge status={state.status} />{" "}
          {state.runId && (
            <a className="nodrag" href={href.run(state.runId)} aria-label={`step run of ${id}`}>step run</a>
          )}
          {step?.error && <div className="error step-error" title={step.error}>{step.error}</div>}
        </div>
      )}
      {problems.length > 0 && (
        <div className="node-problems">
          <span className="problem-badge">{problems.length} problem{problems.length > 1 ? "s" : ""}</span>
          <ul>{problems.map((problem, k) => <li key={k}>{problem.message}</li>)}</ul>
        </div>
      )}
    </div>
  );
}
