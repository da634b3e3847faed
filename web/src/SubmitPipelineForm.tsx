// Submitting a published pipeline or an endpoint: an experiment name, for an endpoint the
// version (its default first; each version's pipeline has its own parameters), and each
// parameter (filled in with its default), then a link to the run it started.
import { useId, useState, type FormEvent } from "react";
import { api, errorMessage, type PipelineSubmission, type Submitted } from "./api";
import { changedParameters, type Parameter } from "./pipelines";
import { href } from "./route";

export type SubmitTarget = { kind: "pipeline"; id: string } | { kind: "endpoint"; name: string };

/** one version of an endpoint: what the choice reads, and its pipeline's parameters */
export interface EndpointVersion {
  version: string;
  label: string;
  parameters: Parameter[];
}

const defaults = (parameters: Parameter[]) => Object.fromEntries(parameters.map((p) => [p.name, String(p.default)]));

function submit(target: SubmitTarget, body: PipelineSubmission): Promise<Submitted> {
  return target.kind === "pipeline"
    ? api.submitPublishedPipeline(target.id, body)
    : api.submitPipelineEndpoint(target.name, body);
}

export function SubmitPipelineForm({ target, title, parameters: fixed, versions, defaultVersion, onClose }: {
  target: SubmitTarget; title: string; onClose: () => void;
  /** a published pipeline's parameters */
  parameters?: Parameter[];
  /** an endpoint's versions, and the one submitted unless another is chosen */
  versions?: EndpointVersion[]; defaultVersion?: string;
}) {
  const id = useId();
  const [experiment, setExperiment] = useState("");
  const [version, setVersion] = useState(defaultVersion ?? "");
  const parameters = (versions ? versions.find((v) => v.version === version)?.parameters : fixed) ?? [];
  const [texts, setTexts] = useState<Record<string, string>>(defaults(parameters));
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
      setStarted(await submit(target, {
        experiment_name: experiment.trim(), pipeline_parameters: pipelineParameters,
        ...(versions ? { pipeline_version: version } : {}),
      }));
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
      {versions && (
        <div className="field">
          <label htmlFor={`${id}-version`}>Version</label>
          <select id={`${id}-version`} value={version} onChange={(e) => {
            setVersion(e.target.value);
            setTexts(defaults(versions.find((v) => v.version === e.target.value)?.parameters ?? []));
          }}>
            {versions.map((v) => (
              <option key={v.version} value={v.version}>{v.label}{v.version === defaultVersion ? " (default)" : ""}</option>
            ))}
          </select>
        </div>
      )}
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
