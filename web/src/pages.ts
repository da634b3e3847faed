// The pages other than the runs table, each its own script file, loaded when first opened:
// a fresh tab on the runs table reads less script. The page the address names is loaded
// before the first render (main.tsx), and later pages as they are opened (usePage). Not
// React.lazy: a Suspense fallback holds back what follows it for 300 ms, which a page that
// is already on its way does not need to wait.
import { useEffect, useState, type ComponentType } from "react";
import type { Route } from "./route";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyPage = ComponentType<any>;
export type PageName = "run" | "compare" | "assets" | "pipelines" | "drawings" | "drawing";

const loaders: Record<PageName, () => Promise<AnyPage>> = {
  run: () => import("./RunDetail").then((m) => m.RunDetail),
  compare: () => import("./CompareView").then((m) => m.CompareView),
  assets: () => import("./AssetsPage").then((m) => m.AssetsPage),
  pipelines: () => import("./PipelinesPage").then((m) => m.PipelinesPage),
  drawings: () => import("./designer/DrawingList").then((m) => m.DrawingList),
  drawing: () => import("./designer/DesignerPage").then((m) => m.DesignerPage),
};
const loaded = new Map<PageName, AnyPage>();

/** The page a route shows, other than the runs table (which is always loaded). */
export function pageOf(route: Route): PageName | undefined {
  return route.page === "runs" ? undefined : route.page;
}

/** Loads a page's script (once); resolves when its component is ready. */
export async function loadPage(name: PageName): Promise<AnyPage> {
  const found = loaded.get(name);
  if (found) return found;
  const page = await loaders[name]();
  loaded.set(name, page);
  return page;
}

/** The page's component once its script is loaded (undefined until then), or an error. */
export function usePage(name: PageName): { page: AnyPage | undefined; error: string | undefined } {
  const [, setVersion] = useState(0);
  const [error, setError] = useState<string | undefined>(undefined);
  const page = loaded.get(name);
  useEffect(() => {
    if (loaded.has(name)) return;
    let current = true;
    loadPage(name).then(
      () => current && setVersion((n) => n + 1),
      (e: unknown) => current && setError(`the page's script could not be loaded: ${e instanceof Error ? e.message : String(e)}`),
    );
    return () => {
      current = false;
    };
  }, [name]);
  return { page, error };
}
