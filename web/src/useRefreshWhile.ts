import { useEffect, useRef } from "react";

/**
 * Call `reloads` every `ms` while `live` (a run that is still running), and once more when it
 * stops being live, so what the run wrote just before it ended is shown too. The reloads
 * must be stable functions (useFetch's `reload`).
 */
export function useRefreshWhile(live: boolean, ms: number, ...reloads: (() => void)[]): void {
  const wasLive = useRef(live);
  useEffect(() => {
    const ended = wasLive.current && !live;
    wasLive.current = live;
    if (ended) reloads.forEach((reload) => reload());
    if (!live) return;
    const timer = window.setInterval(() => reloads.forEach((reload) => reload()), ms);
    return () => window.clearInterval(timer);
  }, [live, ms]); // (the reloads never change)
}
