// The studio's sections, in the header: runs, the registered models and datasets, the
// published pipelines with their endpoints and schedules, and the designer's drawings.
import { href, type Route } from "./route";

export function HeaderNav({ route }: { route: Route }) {
  const links: [string, string, boolean][] = [
    ["Runs", href.allRuns(), route.page === "runs" || route.page === "run" || route.page === "compare"],
    ["Models", href.asset("model"), route.page === "assets" && route.kind === "model"],
    ["Datasets", href.asset("dataset"), route.page === "assets" && route.kind === "dataset"],
    ["Pipelines", href.pipelines(), route.page === "pipelines"],
    ["Designer", href.drawings(), route.page === "drawings" || route.page === "drawing"],
  ];
  return (
    <nav className="sections" aria-label="Sections">
      {links.map(([label, link, current]) => (
        <a key={label} href={link} aria-current={current ? "page" : undefined}>{label}</a>
      ))}
    </nav>
  );
}
