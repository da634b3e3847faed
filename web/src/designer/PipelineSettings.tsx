// The side panel when no node is selected: the pipeline's experiment and description, and
// the YAML it was last saved as, with the command that runs it.

export interface Settings {
  description: string;
  experiment_name: string;
}

export function PipelineSettings({ settings, onChange, savedAs }: {
  settings: Settings;
  onChange: (settings: Settings) => void;
  savedAs?: { path: string; yaml: string };
}) {
  return (
    <aside className="node-panel" aria-labelledby="settings-title">
      <h3 id="settings-title">Pipeline</h3>
      <p className="muted">Select a node to set its parameters and connect it.</p>
      <div className="param">
        <label htmlFor="pipeline-experiment">Experiment</label>
        <input id="pipeline-experiment" type="text" value={settings.experiment_name}
               aria-describedby="pipeline-experiment-about"
               onChange={(e) => onChange({ ...settings, experiment_name: e.target.value })} />
        <p id="pipeline-experiment-about" className="muted about">where its runs go (default: the drawing's name)</p>
      </div>
      <div className="param">
        <label htmlFor="pipeline-description">Description</label>
        <textarea id="pipeline-description" rows={3} value={settings.description}
                  onChange={(e) => onChange({ ...settings, description: e.target.value })} />
      </div>
      {savedAs && (
        <details>
          <summary>Saved pipeline YAML</summary>
          <p className="muted">
            Run it with <code>runyard pipeline submit -f {savedAs.path}/pipeline.yml</code>
          </p>
          <pre className="yaml">{savedAs.yaml}</pre>
        </details>
      )}
    </aside>
  );
}
