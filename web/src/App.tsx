// The studio's frame: the workspace's name, the sections, the experiments beside the page the
// address names, and, instead of them, the token prompt when the server asks for one;
// accepting a token mounts the pages again, so everything they show is read with it. Pages
// other than the runs table are loaded when first opened (pages.ts: their own script files,
// with charts, graphs and the designer's canvas), so the runs table a fresh tab opens reads
// less script.
import { api } from "./api";
import { MAX_COMPARED } from "./compare";
import { ExperimentList } from "./ExperimentList";
import { HeaderNav } from "./HeaderNav";
import { pageOf, usePage, type PageName } from "./pages";
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
  const designing = route.page === "drawings" || route.page === "drawing";
  return (
    <div className="app">
      <WorkspaceHeader route={route} />
      <div className="layout">
        {!designing && <ExperimentList route={route} />}
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
      {workspace.data && <span className="workspace"><span className="muted">workspace</span> {workspace.data.name}</span>}
      <HeaderNav route={route} />
    </header>
  );
}

function Page({ route }: { route: Route }) {
  const name = pageOf(route);
  if (name === undefined) return <RunsPage key={route.page === "runs" ? route.experiment ?? "" : ""}
                                           experiment={route.page === "runs" ? route.experiment : undefined} />;
  return <LoadedPage name={name} route={route} />;
}

function LoadedPage({ name, route }: { name: PageName; route: Route }) {
  const { page: Shown, error } = usePage(name);
  if (error) return <p role="alert" className="error">{error}</p>;
  if (!Shown) return <p className="muted" role="status">loading…</p>;
  if (route.page === "run") return <Shown key={route.runId} runId={route.runId} />;
  if (route.page === "compare") return <Shown runIds={route.runIds.slice(0, MAX_COMPARED)} />;
  if (route.page === "drawing") return <Shown key={route.name} name={route.name} />;
  if (route.page === "assets") {
    return <Shown key={`${route.kind}/${route.name ?? ""}`} kind={route.kind} name={route.name} version={route.version} />;
  }
  return <Shown />;
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
