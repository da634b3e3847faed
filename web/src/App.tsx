// The studio's frame: the workspace's name, the experiments beside the page the address
// names, and, instead of them, the token prompt when the server asks for one; accepting a
// token mounts the pages again, so everything they show is read with it.
import { api } from "./api";
import { AssetsPage } from "./AssetsPage";
import { MAX_COMPARED } from "./compare";
import { CompareView } from "./CompareView";
import { ExperimentList } from "./ExperimentList";
import { HeaderNav } from "./HeaderNav";
import { PipelinesPage } from "./PipelinesPage";
import { RunDetail } from "./RunDetail";
import { RunsTable } from "./RunsTable";
import { useRoute, type Route } from "./route";
import { TokenPrompt } from "./TokenPrompt";
import { useTokenState } from "./token";
import { useDocumentTitle } from "./useDocumentTitle";
import { useFetch } from "./useFetch";

export function App() {
  const { needed } = useTokenState();
  const route = useRoute();
  if (needed) {
    return (
      <>
        <header className="top"><h1>runyard studio</h1></header>
        <TokenPrompt />
      </>
    );
  }
  return (
    <div className="app">
      <WorkspaceHeader route={route} />
      <div className="layout">
        <ExperimentList route={route} />
        <main>
          <Page route={route} />
        </main>
      </div>
    </div>
  );
}

function WorkspaceHeader({ route }: { route: Route }) {
  const workspace = useFetch(api.workspace, "workspace");
  return (
    <header className="top">
      <h1>runyard studio</h1>
      <HeaderNav route={route} />
      {workspace.data && <span className="workspace"><span className="muted">workspace</span> {workspace.data.name}</span>}
    </header>
  );
}

function Page({ route }: { route: Route }) {
  if (route.page === "run") return <RunDetail key={route.runId} runId={route.runId} />;
  if (route.page === "compare") return <CompareView runIds={route.runIds.slice(0, MAX_COMPARED)} />;
  if (route.page === "assets") {
    return <AssetsPage key={`${route.kind}/${route.name ?? ""}`} kind={route.kind} name={route.name} version={route.version} />;
  }
  if (route.page === "pipelines") return <PipelinesPage />;
  return <RunsPage key={route.experiment ?? ""} experiment={route.experiment} />;
}

function RunsPage({ experiment }: { experiment?: string }) {
  useDocumentTitle(experiment ?? "All runs");
  return (
    <section className="runs-page" aria-label="Runs">
      <h2>{experiment ? `Experiment ${experiment}` : "All runs"}</h2>
      <RunsTable label="Runs" experiment={experiment} />
    </section>
  );
}
