// The side panel of the node selected on the canvas: its parameters, its connections (each
// removable), a way to connect each output to a free input of the same type without the
// mouse, and removing the node.
import { useState, type FormEvent } from "react";
import type { DesignerEdge, ModuleSpec, ParamValue, Problem } from "../api";
import { connectableInputs, edgeId, type PortRef } from "./connections";
import { paramValue, type ModuleNodeData } from "./drawing";
import { ParamField } from "./ParamField";

interface Props {
  id: string;
  data: ModuleNodeData;
  /** what the last save found on it */
  problems: Problem[];
  nodes: { id: string; module: string }[];
  edges: DesignerEdge[];
  modules: Map<string, ModuleSpec>;
  learners: Record<string, Record<string, string>>;
  datasets: string[];
  onParam: (name: string, value: ParamValue) => void;
  onConnect: (edge: DesignerEdge) => void;
  onDisconnect: (edge: DesignerEdge) => void;
  onRemove: () => void;
  onRename: (id: string) => void;
}

export function NodePanel({ id, data, problems, nodes, edges, modules, learners, datasets, onParam, onConnect, onDisconnect,
                            onRemove, onRename }: Props) {
  const { module } = data;
  const problemOf = (field: string) => problems.find((problem: Problem) => problem.field === field)?.message;
  const mine = edges.filter((edge) => edge.source === id || edge.target === id);
  return (
    <aside className="node-panel" aria-labelledby="node-panel-title">
      <h3 id="node-panel-title">{module.title} <span className="muted">{id}</span></h3>
      <p className="muted">{module.description}</p>
      <Rename key={id} id={id} taken={nodes.map((node) => node.id)} onRename={onRename} />
      {module.params.length > 0 && (
        <fieldset>
          <legend>Parameters</legend>
          {module.params.map((param) => (
            <ParamField key={`${id}-${param.name}`} nodeId={id} param={param} value={paramValue(data, param.name)}
                        onChange={(value) => onParam(param.name, value)} learners={learners} datasets={datasets}
                        problem={problemOf(`params.${param.name}`)} />
          ))}
        </fieldset>
      )}
      {module.inputs.some((port) => problemOf(`inputs.${port.name}`)) && (
        <ul className="error">
          {module.inputs.map((port) => problemOf(`inputs.${port.name}`)).filter(Boolean)
            .map((message) => <li key={message}>{message}</li>)}
        </ul>
      )}
      {module.outputs.map((port) => (
        <ConnectOutput key={`${id}-${port.name}`} port={port.name}
                       choices={connectableInputs(id, port.name, nodes, modules, edges)}
                       onConnect={(to) => onConnect({ source: id, source_port: port.name, target: to.node,
                                                      target_port: to.port })} />
      ))}
      {mine.length > 0 && (
        <section aria-label="Connections">
          <h4>Connections</h4>
          <ul className="connections">
            {mine.map((edge) => {
              const words = `${edge.source}.${edge.source_port} to ${edge.target}.${edge.target_port}`;
              return (
                <li key={edgeId(edge)}>
                  {words}{" "}
                  <button type="button" onClick={() => onDisconnect(edge)} aria-label={`Disconnect ${words}`}>
                    Disconnect
                  </button>
                </li>
              );
            })}
          </ul>
        </section>
      )}
      <button type="button" className="danger" onClick={onRemove}>Remove node {id}</button>
    </aside>
  );
}

function ConnectOutput({ port, choices, onConnect }: {
  port: string; choices: PortRef[]; onConnect: (to: PortRef) => void;
}) {
  const [chosen, setChosen] = useState("");
  const selectId = `connect-${port}`;
  const target = choices.find((choice) => `${choice.node}.${choice.port}` === chosen) ?? choices[0];
  return (
    <div className="connect">
      <label htmlFor={selectId}>Connect output {port} to</label>
      <select id={selectId} value={target ? `${target.node}.${target.port}` : ""} disabled={choices.length === 0}
              onChange={(e) => setChosen(e.target.value)}>
        {choices.length === 0 && <option value="">no free input of its type</option>}
        {choices.map((choice) => (
          <option key={`${choice.node}.${choice.port}`} value={`${choice.node}.${choice.port}`}>
            {choice.node}.{choice.port}
          </option>
        ))}
      </select>
      <button type="button" disabled={!target} onClick={() => target && onConnect(target)}
              aria-label={`Connect output ${port}`}>Connect</button>
    </div>
  );
}

/** a node's id is its step's name in the YAML (and its run's name) */
const STEP_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

function Rename({ id, taken, onRename }: { id: string; taken: string[]; onRename: (id: string) => void }) {
  const [name, setName] = useState(id);
  const [problem, setProblem] = useState<string | undefined>();
  const rename = (event: FormEvent) => {
    event.preventDefault();
    const given = name.trim();
    if (given === id) return;
    if (!STEP_NAME.test(given)) setProblem("A step name is a letter, then letters, digits and '_' (up to 64).");
    else if (taken.includes(given)) setProblem(`Another node is called ${given}.`);
    else onRename(given);
  };
  return (
    <form className="rename" onSubmit={rename}>
      <label htmlFor="step-name">Step name</label>
      <input id="step-name" type="text" value={name} aria-describedby="step-name-problem"
             aria-invalid={problem ? true : undefined}
             onChange={(e) => { setName(e.target.value); setProblem(undefined); }} />
      <button type="submit">Rename</button>
      <span id="step-name-problem" className="error about">{problem}</span>
    </form>
  );
}
