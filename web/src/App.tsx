// The studio's frame: the workspace's name, the sections, the experiments beside the page the
// address names, and, instead of them, the token prompt when the server asks for one;
// accepting a token mounts the pages again, so everything they show is read with it. Pages
// other than the runs table are loaded when first opened (their own script files: charts,
// graphs and the designer's canvas), so the runs table a fresh tab opens reads less script.
import { lazy, Suspense } from "react";
import { api } from "./api";
import { MAX_COMPARED } from "./compare";
import { ExperimentList } from "./ExperimentList";
import { HeaderNav } from "./HeaderNav";
import { RunsTable } from "./RunsTable";
import { useRoute, type Route } from "./route";
import { TokenPrompt } from "./TokenPrompt";
import { useTokenState } from "./token";
import { useDocumentTitle } from "./useDocumentTitle";
import { useFetch } from "./useFetch";

const RunDetail = lazy(() => import("./RunDetail").then((m) => ({ default: m.RunDetail })));
const CompareView = lazy(() => import("./CompareView").then((m) => ({ default: m.CompareView })));
const AssetsPage = lazy(() => import("./AssetsPage").then((m) => ({ default: m.AssetsPage })));
const PipelinesPage = lazy(() => import("./PipelinesPage").then((m) => ({ default: m.PipelinesPage })));
const DrawingList = lazy(() => import("./designer/DrawingList").then((m) => ({ default: m.DrawingList })));
const DesignerPage = lazy(() => import("./designer/DesignerPage").then((m) => ({ default: m.DesignerPage })));

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
          <Suspense fallback={<p className="muted" role="status">loading…</p>}>
            <Page route={route} />
          </Suspense>
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
  if (route.page === "run") return <RunDetail key={route.runId} runId={route.runId} />;
  if (route.page === "compare") return <CompareView runIds={route.runIds.slice(0, MAX_COMPARED)} />;
  if (route.page === "drawings") return <DrawingList />;
  if (route.page === "drawing") return <DesignerPage key={route.name} name={route.name} />;
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
