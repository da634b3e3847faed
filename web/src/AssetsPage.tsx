// The Models and Datasets pages: every name (its latest version), then a name's versions
// (tags, created, state), then one version: what it is, its tags and properties, and its
// lineage both ways (the runs that produced it, the runs that read it), each run a link.
import { api, type Asset } from "./api";
import { byName, versionFacts, versionLineage } from "./assets";
import { formatCount, formatTime } from "./format";
import { KeyValueTable } from "./KeyValueTable";
import { href } from "./route";
import { useDocumentTitle } from "./useDocumentTitle";
import { useFetch } from "./useFetch";

type Kind = "model" | "dataset";
const TITLES: Record<Kind, string> = { model: "Models", dataset: "Datasets" };
const MAX_FILES = 200;

export function AssetsPage({ kind, name, version }: { kind: Kind; name?: string; version?: number }) {
  useDocumentTitle(name ? `${name} · ${TITLES[kind]}` : TITLES[kind]);
  return (
    <section className="assets-page" aria-label={TITLES[kind]}>
      <h2>
        {name ? <><a href={href.asset(kind)}>{TITLES[kind]}</a> / {name}</> : TITLES[kind]}
      </h2>
      {name === undefined ? <AssetNames kind={kind} /> : <AssetVersions kind={kind} name={name} version={version} />}
    </section>
  );
}

function AssetNames({ kind }: { kind: Kind }) {
  const assets = useFetch(() => api.assets(kind), kind);
  if (assets.error) return <p role="alert" className="error">{assets.error}</p>;
  if (!assets.data) return <p className="muted">Loading…</p>;
  const names = byName(assets.data);
  if (names.length === 0) return <p className="muted">No {TITLES[kind].toLowerCase()} registered.</p>;
  return (
    <table aria-label={TITLES[kind]}>
      <thead>
        <tr><th scope="col">Name</th><th scope="col">Latest version</th><th scope="col">Versions</th>
          <th scope="col">Created</th><th scope="col">State</th><th scope="col">Description</th></tr>
      </thead>
      <tbody>
        {names.map(({ name, versions, latest }) => (
          <tr key={name}>
            <td><a href={href.asset(kind, name)}>{name}</a></td>
            <td>{latest.version}</td>
            <td>{versions.length}</td>
            <td>{formatTime(latest.created_at)}</td>
            <td>{latest.state}</td>
            <td>{versionFacts(latest).description ?? ""}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function AssetVersions({ kind, name, version }: { kind: Kind; name: string; version?: number }) {
  const assets = useFetch(() => api.assets(kind, name), `${kind}/${name}`);
  if (assets.error) return <p role="alert" className="error">{assets.error}</p>;
  if (!assets.data) return <p className="muted">Loading…</p>;
  const found = byName(assets.data)[0];
  if (!found) return <p role="alert" className="error">No {kind} named {name} is registered.</p>;
  const shown = version === undefined ? found.latest : found.versions.find((v) => v.version === version);
  return (
    <>
      <table aria-label="Versions">
        <thead>
          <tr><th scope="col">Version</th><th scope="col">Tags</th><th scope="col">Created</th><th scope="col">State</th></tr>
        </thead>
        <tbody>
          {found.versions.map((v) => (
            <tr key={v.version}>
              <td>
                <a href={href.asset(kind, name, v.version)} aria-current={v === shown ? "page" : undefined}>
                  Version {v.version}
                </a>
              </td>
              <td>{Object.entries(versionFacts(v).tags).map(([k, value]) => (value === null ? k : `${k}=${value}`)).join(", ")}</td>
              <td>{formatTime(v.created_at)}</td>
              <td>{v.state}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {shown ? <VersionDetail asset={shown} /> : <p role="alert" className="error">{name} has no version {version}.</p>}
    </>
  );
}

function VersionDetail({ asset }: { asset: Asset }) {
  const lineage = useFetch(() => api.lineage({ kind: asset.kind, name: asset.name, version: asset.version }), asset.id);
  const facts = versionFacts(asset);
  const ways = lineage.data && versionLineage(asset, lineage.data);
  return (
    <article className="panel" aria-label={`${asset.name} version ${asset.version}`}>
      <h3>{asset.name} version {asset.version}</h3>
      {facts.description && <p>{facts.description}</p>}
      <dl className="overview">
        {[["Created", formatTime(asset.created_at)], ["State", asset.state], ["Id", asset.id], ...facts.facts].map(([term, value]) => (
          <div key={term}><dt>{term}</dt><dd>{value}</dd></div>
        ))}
      </dl>
      <div className="columns">
        <section aria-label="Tags"><h4>Tags</h4><KeyValueTable label="Tags" values={facts.tags} /></section>
        <section aria-label="Properties"><h4>Properties</h4><KeyValueTable label="Properties" values={facts.properties} /></section>
      </div>
      {facts.files.length > 0 && (
        <>
          <h4>Files</h4>
          <table aria-label="Files of the version">
            <thead><tr><th scope="col">Path</th>{asset.kind === "dataset" && <th scope="col">Size (bytes)</th>}</tr></thead>
            <tbody>
              {facts.files.slice(0, MAX_FILES).map((file) => (
                <tr key={file.path}><td>{file.path}</td>{asset.kind === "dataset" && <td>{formatCount(file.size ?? 0)}</td>}</tr>
              ))}
            </tbody>
          </table>
          {facts.files.length > MAX_FILES && <p className="muted">The first {MAX_FILES} of {formatCount(facts.files.length)} files.</p>}
        </>
      )}
      {facts.datasets.length > 0 && (
        <>
          <h4>Datasets it names</h4>
          <ul>
            {facts.datasets.map((d) => (
              <li key={`${d.scenario}/${d.name}/${d.version}`}>
                {d.scenario}: <a href={href.asset("dataset", d.name, d.version)}>dataset {d.name} version {d.version}</a>
              </li>
            ))}
          </ul>
        </>
      )}
      <h4>Lineage</h4>
      {lineage.error && <p role="alert" className="error">{lineage.error}</p>}
      {ways && (
        <div className="columns">
          <section aria-label="Produced by">
            <h5>Produced by</h5>
            {ways.producedBy.length === 0 ? <p className="muted">No run recorded (registered from files).</p> : (
              <ul>{ways.producedBy.map((runId) => <li key={runId}><a href={href.run(runId)}>{runId}</a></li>)}</ul>
            )}
          </section>
          <section aria-label="Read by">
            <h5>Read by</h5>
            {ways.readBy.length === 0 ? <p className="muted">No run has read it.</p> : (
              <ul>
                {ways.readBy.map(({ runId, label }) => (
                  <li key={runId}><a href={href.run(runId)}>{runId}</a>{label && <span className="muted"> as {label}</span>}</li>
                ))}
              </ul>
            )}
          </section>
        </div>
      )}
    </article>
  );
}
