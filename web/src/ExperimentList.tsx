// The side bar: every run, then each experiment of the workspace.
import { href, type Route } from "./route";
import { api } from "./api";
import { useFetch } from "./useFetch";

export function ExperimentList({ route }: { route: Route }) {
  const experiments = useFetch(api.experiments, "experiments");
  const current = route.page === "runs" ? route.experiment : undefined;
  return (
    <nav className="sidebar" aria-label="Experiments">
      <ul>
        <li>
          <a href={href.allRuns()} aria-current={route.page === "runs" && !current ? "page" : undefined}>All runs</a>
        </li>
      </ul>
      <h2>Experiments</h2>
      {experiments.error && <p role="alert" className="error">{experiments.error}</p>}
      <ul>
        {experiments.data?.map((name) => (
          <li key={name}>
            <a href={href.experiment(name)} aria-current={name === current ? "page" : undefined}>{name}</a>
          </li>
        ))}
      </ul>
      {experiments.data?.length === 0 && <p className="muted">No experiments yet.</p>}
      <button type="button" className="link" onClick={experiments.reload}>Refresh list</button>
    </nav>
  );
}
