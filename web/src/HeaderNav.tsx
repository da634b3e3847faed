// The studio's sections, in the header: runs, the registered models and datasets, and the
// published pipelines with their endpoints and schedules.
import { href, type Route } from "./route";

export function HeaderNav({ route }: { route: Route }) {
  const links: [string, string, boolean][] = [
    ["Runs", href.allRuns(), route.page === "runs" || route.page === "run" || route.page === "compare"],
    ["Models", href.asset("model"), route.page === "assets" && route.kind === "model"],
    ["Datasets", href.asset("dataset"), route.page === "assets" && route.kind === "dataset"],
    ["Pipelines", href.pipelines(), route.page === "pipelines"],
  ];
  return (
    <nav className="sections" aria-label="Sections">
      {links.map(([label, link, current]) => (
        <a key={label} href={link} aria-current={current ? "page" : undefined}>{label}</a>
      ))}
    </nav>
  );
}
