// The rows of a runs table, fetched a page at a time as they come into view: the table
// says which rows are on screen (showRange), and only their pages are asked for, once the
// scrolling rests for a moment. A change of filters or sort starts again from the top (the
// rows shown before stay until the first new page arrives, so nothing flickers); refresh()
// asks again for the pages on screen and forgets the rest. Pages come without the count of
// the runs the filters match, which is asked for once the first page is in (counting reads
// every match, a page only its own): the rows show as soon as they come, the total when it
// does. Until then the total is what the pages say: at least the rows seen, exactly so after
// a short page (which needs no count).
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import { api, errorMessage, type RunQuery, type RunSummary } from "./api";

export const PAGE_SIZE = 50;
const SETTLE_MS = 80;

export type RunFilter = Omit<RunQuery, "offset" | "limit">;

export interface LoadedRow {
  run: RunSummary;
  /** the latest value of each metric column */
  metrics: Record<string, number | null>;
}

export interface PagedRuns {
  /** how many runs the filters match; undefined until the first page or the count arrives */
  total: number | undefined;
  /** the total is a lower bound (the rows seen) until the count arrives */
  counting: boolean;
  error: string | undefined;
  /** the row at this position, once its page has arrived */
  row: (index: number) => LoadedRow | undefined;
  showRange: (first: number, last: number) => void;
  refresh: () => void;
}

type Page = { runs: RunSummary[]; metrics: Record<string, Record<string, number | null>> };

interface Cache {
  key: string;
  pages: Map<number, Page>;
  /** the pages of the filters before, shown until a page of these arrives */
  before: Map<number, Page>;
  /** pages asked for and not answered yet, by the generation that asked */
  pending: Map<number, number>;
  generation: number;
  /** the count, once it came for these filters */
  counted: number | undefined;
  /** the rows the pages show there are at least */
  seen: number;
  /** the count was asked for (after the first page: a short one needs none) */
  countAsked: boolean;
}

const pagesOf = (first: number, last: number) =>
  Array.from({ length: Math.floor(last / PAGE_SIZE) - Math.floor(first / PAGE_SIZE) + 1 },
             (_, k) => Math.floor(first / PAGE_SIZE) + k);

export function useRunPages(filter: RunFilter): PagedRuns {
  const key = JSON.stringify(filter);
  const cache = useRef<Cache>({
    key: "", pages: new Map(), before: new Map(), pending: new Map(), generation: 0, counted: undefined, seen: 0,
    countAsked: false,
  });
  const range = useRef({ first: 0, last: 0 });
  const settle = useRef<number | undefined>(undefined);
  const [total, setTotal] = useState<number | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [, setArrivals] = useState(0);

  const fetchCount = useCallback(() => {
    const { key: askedKey, generation } = cache.current;
    api.queryRuns({ ...JSON.parse(askedKey), limit: 0 }).then(
      (answer) => {
        const now = cache.current;
        if (now.key !== askedKey || now.generation !== generation || answer.total === null) return;
        now.counted = answer.total;
        setTotal(answer.total);
        setArrivals((n) => n + 1);
      },
      (e: unknown) => {
        if (cache.current.key === askedKey) setError(errorMessage(e));
      },
    );
  }, []);

  const fetchPage = useCallback((page: number) => {
    const c = cache.current;
    if (c.pending.get(page) === c.generation) return;
    c.pending.set(page, c.generation);
    const { key: askedKey, generation } = c;
    api.queryRuns({ ...JSON.parse(askedKey), offset: page * PAGE_SIZE, limit: PAGE_SIZE, total: false }).then(
      (answer) => {
        const now = cache.current;
        if (now.key !== askedKey || now.generation !== generation) return; // asked for something else since
        now.pending.delete(page);
        now.pages.set(page, { runs: answer.runs, metrics: answer.metrics });
        now.before = new Map();
        if (now.counted === undefined) {
          const end = page * PAGE_SIZE + answer.runs.length;
          // a short page is the last: its end is the count (an empty one past the end says nothing)
          if (answer.runs.length < PAGE_SIZE && (answer.runs.length > 0 || page === 0)) now.counted = end;
          now.seen = Math.max(now.seen, end);
          setTotal(now.counted ?? now.seen);
          // the count once the rows are in (not beside them: it would slow their answer down)
          if (now.counted === undefined && !now.countAsked) {
            now.countAsked = true;
            fetchCount();
          }
        }
        setError(undefined);
        setArrivals((n) => n + 1);
      },
      (e: unknown) => {
        const now = cache.current;
        if (now.key !== askedKey) return;
        now.pending.delete(page);
        setError(errorMessage(e));
      },
    );
  }, [fetchCount]);

  const fetchVisible = useCallback(() => {
    const { first, last } = range.current;
    for (const page of pagesOf(first, last)) if (!cache.current.pages.has(page)) fetchPage(page);
  }, [fetchPage]);

  // a layout effect: the first page is asked for as the table is put in the page, not after
  // the browser has painted it (a fresh tab's first paint takes tens of milliseconds)
  useLayoutEffect(() => {
    const c = cache.current;
    cache.current = {
      key, pages: new Map(), before: c.pages, pending: new Map(), generation: c.generation + 1,
      counted: undefined, seen: 0, countAsked: false,
    };
    const { first, last } = range.current;
    range.current = { first: 0, last: last - first }; // the table goes back to the top
    fetchVisible();
  }, [key, fetchVisible]);

  useEffect(() => () => window.clearTimeout(settle.current), []);

  const showRange = useCallback((first: number, last: number) => {
    if (range.current.first === first && range.current.last === last) return;
    range.current = { first, last };
    window.clearTimeout(settle.current);
    settle.current = window.setTimeout(fetchVisible, SETTLE_MS);
  }, [fetchVisible]);

  const refresh = useCallback(() => {
    const c = cache.current;
    const onScreen = pagesOf(range.current.first, range.current.last);
    const kept = new Map([...c.pages].filter(([page]) => onScreen.includes(page)));
    // the count stands until the new one comes (the table does not shrink meanwhile)
    cache.current = { ...c, pages: kept, pending: new Map(), generation: c.generation + 1 };
    onScreen.forEach(fetchPage);
    fetchCount();
  }, [fetchPage, fetchCount]);

  const row = (index: number): LoadedRow | undefined => {
    const c = cache.current;
    const pages = c.pages.size > 0 ? c.pages : c.before;
    const page = pages.get(Math.floor(index / PAGE_SIZE));
    const run = page?.runs[index % PAGE_SIZE];
    return page && run ? { run, metrics: page.metrics[run.run_id] ?? {} } : undefined;
  };
  return { total, counting: cache.current.counted === undefined, error, row, showRange, refresh };
}
