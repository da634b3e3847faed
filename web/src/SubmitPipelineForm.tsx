// Submitting a published pipeline or an endpoint: an experiment name and each parameter
// (filled in with its default), then a link to the run it started.
import { useId, useState, type FormEvent } from "react";
import { api, errorMessage, type PipelineSubmission, type Submitted } from "./api";
import { changedParameters, type Parameter } from "./pipelines";
import { href } from "./route";

export type SubmitTarget = { kind: "pipeline"; id: string } | { kind: "endpoint"; name: string };

function submit(target: SubmitTarget, body: PipelineSubmission): Promise<Submitted> {
  return target.kind === "pipeline"
    ? api.submitPublishedPipeline(target.id, body)
    : api.submitPipelineEndpoint(target.name, body);
}

export function SubmitPipelineForm({ target, title, parameters, onClose }: {
  target: SubmitTarget; title: string; parameters: Parameter[]; onClose: () => void;
}) {
  const id = useId();
  const [experiment, setExperiment] = useState("");
  const [texts, setTexts] = useState<Record<string, string>>(
    Object.fromEntries(parameters.map((p) => [p.name, String(p.default)])));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const [started, setStarted] = useState<Submitted | undefined>(undefined);

  const send = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setStarted(undefined);
    let pipelineParameters;
    try {
      pipelineParameters = changedParameters(parameters, texts);
    } catch (e) {
      setError(errorMessage(e));
      return;
    }
    setBusy(true);
    try {
      setStarted(await submit(target, { experiment_name: experiment.trim(), pipeline_parameters: pipelineParameters }));
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="submit-form" aria-label={`Submit ${title}`} onSubmit={send}>
      <h4>Submit {title}</h4>
      <label htmlFor={`${id}-experiment`}>Experiment</label>
      <input id={`${id}-experiment`} required value={experiment} onChange={(e) => setExperiment(e.target.value)} />
      {parameters.map((parameter) => (
        <div key={parameter.name} className="field">
          <label htmlFor={`${id}-${parameter.name}`}>{parameter.name} <span className="muted">({parameter.type})</span></label>
          {parameter.type === "bool" ? (
            <select id={`${id}-${parameter.name}`} value={texts[parameter.name]}
                    onChange={(e) => setTexts({ ...texts, [parameter.name]: e.target.value })}>
              <option value="true">true</option>
              <option value="false">false</option>
            </select>
          ) : (
            <input id={`${id}-${parameter.name}`} value={texts[parameter.name] ?? ""}
                   onChange={(e) => setTexts({ ...texts, [parameter.name]: e.target.value })} />
          )}
        </div>
      ))}
      <div className="actions">
        <button type="submit" disabled={busy}>{busy ? "Submitting…" : "Submit"}</button>
        <button type="button" onClick={onClose}>Close</button>
      </div>
      {error && <p role="alert" className="error">{error}</p>}
      {started && (
        <p role="status" className="in-text">
          Submitted: <a href={href.run(started.run_id)}>{started.run_id}</a> in experiment {started.experiment} ({started.status})
        </p>
      )}
    </form>
  );
}
