// The Pipelines page: published pipelines (name, version, parameters with their defaults),
// pipeline endpoints (their versions and the default) and schedules (what fires them, their
// status, their last firings); a published pipeline or an endpoint can be submitted here.
import { useState } from "react";
import { api, type Asset } from "./api";
import { formatTime } from "./format";
import {
  pipelineEndpoint, publishedPipeline, schedule, type PublishedPipelineFacts,
} from "./pipelines";
import { href } from "./route";
import { SubmitPipelineForm } from "./SubmitPipelineForm";
import { useDocumentTitle } from "./useDocumentTitle";
import { useFetch } from "./useFetch";

const RECENT_FIRINGS = 5;

const pipelineTitle = (p: PublishedPipelineFacts) => `${p.name} ${p.version ?? ""}`.trim();

async function load() {
  const [pipelines, endpoints, schedules] = await Promise.all([
    api.assets("published_pipeline"), api.assets("pipeline_endpoint"), api.assets("schedule"),
  ]);
  return { pipelines, endpoints, schedules };
}

export function PipelinesPage() {
  useDocumentTitle("Pipelines");
  const loaded = useFetch(load, "pipelines");
  const [open, setOpen] = useState<string | undefined>(undefined);
  if (loaded.error) return <p role="alert" className="error">{loaded.error}</p>;
  if (!loaded.data) return <p className="muted">Loading pipelines…</p>;
  const pipelines = loaded.data.pipelines.map(publishedPipeline);
  const byId = new Map(pipelines.map((p) => [p.id, p]));
  const endpoints = loaded.data.endpoints.map(pipelineEndpoint);
  const schedules = loaded.data.schedules;
  const close = () => setOpen(undefined);

  return (
    <section className="pipelines-page" aria-label="Pipelines">
      <h2>Pipelines</h2>
      <section className="panel" aria-labelledby="published-heading">
        <h3 id="published-heading">Published pipelines</h3>
        {pipelines.length === 0 ? <p className="muted">No published pipelines.</p> : (
          <table aria-label="Published pipelines">
            <thead>
              <tr><th scope="col">Name</th><th scope="col">Version</th><th scope="col">Parameters (defaults)</th>
                <th scope="col">State</th><th scope="col">Id</th><th scope="col"><span className="visually-hidden">Actions</span></th></tr>
            </thead>
            <tbody>
              {pipelines.map((p) => (
                <tr key={p.id}>
                  <td>{p.name}{p.description && <div className="muted">{p.description}</div>}</td>
                  <td>{p.version ?? ""}</td>
                  <td>{p.parameters.map((parameter) => `${parameter.name}=${String(parameter.default)}`).join(", ") || "none"}</td>
                  <td>{p.state}</td>
                  <td><code>{p.id}</code></td>
                  <td>
                    <button type="button" aria-expanded={open === p.id} aria-label={`Submit ${pipelineTitle(p)}`}
                            disabled={p.state !== "active"} onClick={() => setOpen(open === p.id ? undefined : p.id)}>Submit…</button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {pipelines.map((p) => open === p.id && (
          <SubmitPipelineForm key={p.id} target={{ kind: "pipeline", id: p.id }} title={pipelineTitle(p)}
                              parameters={p.parameters} onClose={close} />
        ))}
      </section>

      <section className="panel" aria-labelledby="endpoints-heading">
        <h3 id="endpoints-heading">Pipeline endpoints</h3>
        {endpoints.length === 0 ? <p className="muted">No pipeline endpoints.</p> : (
          <table aria-label="Pipeline endpoints">
            <thead>
              <tr><th scope="col">Name</th><th scope="col">Default version</th><th scope="col">Versions</th>
                <th scope="col">State</th><th scope="col"><span className="visually-hidden">Actions</span></th></tr>
            </thead>
            <tbody>
              {endpoints.map((e) => (
                <tr key={e.name}>
                  <td>{e.name}{e.description && <div className="muted">{e.description}</div>}</td>
                  <td>{e.defaultVersion}</td>
                  <td>{e.pipelines.map(({ version, pipelineId }) => {
                    const p = byId.get(pipelineId);
                    return `${version}: ${p ? pipelineTitle(p) : pipelineId}`;
                  }).join("; ")}</td>
                  <td>{e.state}</td>
                  <td>
                    <button type="button" aria-expanded={open === `endpoint:${e.name}`} aria-label={`Submit endpoint ${e.name}`}
                            onClick={() => setOpen(open === `endpoint:${e.name}` ? undefined : `endpoint:${e.name}`)}>Submit…</button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {endpoints.map((e) => open === `endpoint:${e.name}` && (
          <SubmitPipelineForm key={e.name} target={{ kind: "endpoint", name: e.name }} title={`endpoint ${e.name}`}
                              versions={e.pipelines.map(({ version, pipelineId }) => {
                                const p = byId.get(pipelineId);
                                return { version, label: `${version}: ${p ? pipelineTitle(p) : pipelineId}`,
                                         parameters: p?.parameters ?? [] };
                              })}
                              defaultVersion={e.defaultVersion} onClose={close} />
        ))}
      </section>

      <section className="panel" aria-labelledby="schedules-heading">
        <h3 id="schedules-heading">Schedules</h3>
        {schedules.length === 0 ? <p className="muted">No schedules.</p> : (
          <table aria-label="Schedules">
            <thead>
              <tr><th scope="col">Name</th><th scope="col">Fires</th><th scope="col">Status</th><th scope="col">Submits</th>
                <th scope="col">Recent firings</th></tr>
            </thead>
            <tbody>
              {schedules.map((asset) => <ScheduleRow key={asset.id} asset={asset} pipelines={byId} />)}
            </tbody>
          </table>
        )}
      </section>
    </section>
  );
}

function ScheduleRow({ asset, pipelines }: { asset: Asset; pipelines: Map<string, PublishedPipelineFacts> }) {
  const facts = schedule(asset);
  const firings = useFetch(() => api.firings(facts.id), facts.id);
  const pipeline = facts.pipelineId ? pipelines.get(facts.pipelineId) : undefined;
  const target = pipeline ? pipelineTitle(pipeline) : facts.pipelineId ?? `endpoint ${facts.endpointId}`;
  const recent = [...(firings.data ?? [])]
    .sort((a, b) => b.fired_at - a.fired_at || b.slot.localeCompare(a.slot))
    .slice(0, RECENT_FIRINGS);
  return (
    <tr>
      <td>{facts.name}</td>
      <td>{facts.trigger}</td>
      <td>{facts.state === "active" ? "Active" : "Disabled"}</td>
      <td>
        {target} in {facts.experiment}
        {Object.keys(facts.parameters).length > 0 && (
          <div className="muted">{Object.entries(facts.parameters).map(([k, v]) => `${k}=${String(v)}`).join(", ")}</div>
        )}
      </td>
      <td>
        {firings.error && <span className="error">{firings.error}</span>}
        {firings.data && recent.length === 0 && <span className="muted">none yet</span>}
        {recent.length > 0 && (
          <ul className="plain">
            {recent.map((firing) => (
              <li key={firing.slot}>
                {formatTime(firing.fired_at)}{" "}
                {firing.run_id ? <a href={href.run(firing.run_id)}>{firing.run_id}</a> : firing.error ? <span className="error">{firing.error}</span> : "…"}
              </li>
            ))}
          </ul>
        )}
      </td>
    </tr>
  );
}
