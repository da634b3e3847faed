// One parameter of a module as the control its kind needs: a checkbox, a number, a choice
// (Train Model's learner grouped by task), a script or CSV in a text area, a registered
// dataset, or text; labelled, described, and with the problem the last save found on it.
import { useState } from "react";
import type { ParamSpec, ParamValue } from "../api";

interface Props {
  nodeId: string;
  param: ParamSpec;
  value: ParamValue;
  onChange: (value: ParamValue) => void;
  learners: Record<string, Record<string, string>>;
  datasets: string[];
  problem?: string;
}

export function ParamField({ nodeId, param, value, onChange, learners, datasets, problem }: Props) {
  const id = `param-${nodeId}-${param.name}`;
  const described = [param.description && `${id}-about`, problem && `${id}-problem`].filter(Boolean).join(" ");
  const common = { id, "aria-describedby": described || undefined, "aria-invalid": problem ? true : undefined };
  let control;
  if (param.kind === "boolean") {
    control = (
      <input type="checkbox" {...common} checked={value === true} onChange={(e) => onChange(e.target.checked)} />
    );
  } else if (param.kind === "number" || param.kind === "integer") {
    control = <NumberInput common={common} integer={param.kind === "integer"} value={value} onChange={onChange} />;
  } else if (param.kind === "choice") {
    const byTask = param.name === "learner" ? Object.entries(learners) : [];
    control = (
      <select {...common} value={String(value ?? "")} onChange={(e) => onChange(e.target.value)}>
        {byTask.length > 0
          ? byTask.map(([task, names]) => (
            <optgroup key={task} label={task}>
              {Object.keys(names).map((name) => <option key={name} value={name}>{name}</option>)}
            </optgroup>))
          : param.choices.map((choice) => <option key={choice} value={choice}>{choice}</option>)}
      </select>
    );
  } else if (param.kind === "code") {
    control = <textarea {...common} rows={8} spellCheck={false} value={String(value ?? "")}
                        onChange={(e) => onChange(e.target.value)} />;
  } else {
    const list = param.kind === "dataset" ? `${id}-datasets` : undefined;
    control = (
      <>
        <input type="text" {...common} list={list} value={String(value ?? "")}
               onChange={(e) => onChange(e.target.value)} />
        {list && <datalist id={list}>{datasets.map((name) => <option key={name} value={name} />)}</datalist>}
      </>
    );
  }
  return (
    <div className={`param param-${param.kind}`}>
      <label htmlFor={id}>{param.name}{param.required ? " (required)" : ""}</label>
      {control}
      {param.description && <p id={`${id}-about`} className="muted about">{param.description}</p>}
      {problem && <p id={`${id}-problem`} className="error about">{problem}</p>}
    </div>
  );
}

/** a number typed as text, kept while it is not a number yet ("0.", "-"); empty is no value */
function NumberInput({ common, integer, value, onChange }: {
  common: Record<string, unknown>; integer: boolean; value: ParamValue; onChange: (value: ParamValue) => void;
}) {
  const [text, setText] = useState(value === null ? "" : String(value));
  return (
    <input type="number" {...common} step={integer ? 1 : "any"} value={text}
           onChange={(e) => {
             setText(e.target.value);
             const number = Number(e.target.value);
             if (e.target.value.trim() === "") onChange(null);
             else if (Number.isFinite(number) && (!integer || Number.isInteger(number))) onChange(number);
           }} />
  );
}
