// A scalar metric's chart (uPlot): up to 1,000 points per run from the server, which keeps
// each bucket's lowest and highest value of a longer series. Dragging across the chart zooms
// in by asking for that range of points again, at full resolution once it fits; a double
// click or "Reset zoom" asks for the whole series. While the run is live it refetches.
import { useEffect, useMemo, useRef, useState } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { api, type Series } from "./api";
import { formatCount } from "./format";
import { chartData, pointRange } from "./seriesData";
import { useFetch } from "./useFetch";
import { useRefreshWhile } from "./useRefreshWhile";

const POINTS = 1000;
const HEIGHT = 220;
const LIVE_REFRESH_MS = 5000;
const COLOURS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4d7c0f", "#be185d"];

interface Range {
  start: number;
  end: number | null;
}
const WHOLE: Range = { start: 0, end: null };

function xExtent(xs: ArrayLike<number>): [number, number] {
  const low = xs[0] ?? 0;
  const high = xs[xs.length - 1] ?? 1;
  return low === high ? [low - 1, high + 1] : [low, high];
}

export interface MetricChartProps {
  name: string;
  runIds: string[];
  /** what to call each run's line (by default its id) */
  labels?: Record<string, string>;
  /** the runs are still logging: refetch now and then, and once after they end */
  live?: boolean;
}

export function MetricChart({ name, runIds, labels, live = false }: MetricChartProps) {
  const [range, setRange] = useState<Range>(WHOLE);
  const zoomed = range !== WHOLE;
  const request = { run_ids: runIds, name, points: POINTS, start: range.start, end: range.end };
  const series = useFetch(() => api.series(request), JSON.stringify(request));
  // while a zoom's points are on their way, the chart keeps showing the ones it has
  const lastAnswer = useRef<Series[] | undefined>(undefined);
  if (series.data) lastAnswer.current = series.data;
  const shown = lastAnswer.current;
  const holder = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  // the uPlot hooks are made once per chart: they read the latest series and setter here
  const latest = useRef({ shown, setRange });
  latest.current = { shown, setRange };

  useRefreshWhile(live, LIVE_REFRESH_MS, series.reload);

  const data = useMemo(() => shown && chartData(shown), [shown]);
  const shape = data ? `${data.x}:${name}:${runIds.join(",")}` : "";
  useEffect(() => {
    const element = holder.current;
    if (!element || !data) return;
    const options: uPlot.Options = {
      width: element.clientWidth || 600,
      height: HEIGHT,
      // the points' extent (zooming asks the server); one point (a final accuracy) sits in the
      // middle of a short axis rather than at the edge of uPlot's 0..100
      scales: { x: { time: false, range: (chart) => xExtent(chart.data[0]) } },
      axes: [{ label: data.x === "step" ? "step" : "point" }, {}],
      series: [{ label: data.x }, ...runIds.map((runId, k) => ({
        label: runIds.length === 1 ? name : labels?.[runId] ?? runId,
        stroke: COLOURS[k % COLOURS.length],
        width: 1.5,
        spanGaps: true,
      }))],
      cursor: {
        drag: { x: true, y: false, setScale: false },
        bind: {
          dblclick: () => () => {
            latest.current.setRange(WHOLE);
            return null;
          },
        },
      },
      hooks: {
        setSelect: [(u) => {
          if (u.select.width < 2) return;
          const low = u.posToVal(u.select.left, "x");
          const high = u.posToVal(u.select.left + u.select.width, "x");
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          const now = latest.current.shown;
          const wanted = now && pointRange(now, data.x, low, high);
          if (wanted) latest.current.setRange(wanted);
        }],
      },
    };
    const chart = new uPlot(options, data.aligned, element);
    plot.current = chart;
    const resize = new ResizeObserver(() => chart.setSize({ width: element.clientWidth, height: HEIGHT }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
    // made again only when the axis or the runs change; new points go in through setData below
  }, [shape]);

  useEffect(() => {
    if (plot.current && data) plot.current.setData(data.aligned);
  }, [data]);

  const counted = shown?.reduce((sum, s) => sum + s.count, 0) ?? 0;
  const drawn = shown?.reduce((sum, s) => sum + s.i.length, 0) ?? 0;
  return (
    <figure className="metric-chart" aria-label={`Chart of ${name}`}>
      <figcaption>
        <strong>{name}</strong>{" "}
        <span className="muted">
          {shown && (drawn < counted
            ? `${formatCount(drawn)} of ${formatCount(counted)} points (lowest and highest of each stretch)`
            : `${formatCount(counted)} ${counted === 1 ? "point" : "points"}`)}
          {zoomed && ` from point ${formatCount(range.start)}`}
        </span>
        {zoomed && <button type="button" onClick={() => setRange(WHOLE)}>Reset zoom</button>}
      </figcaption>
      {series.error && <p role="alert" className="error">{series.error}</p>}
      <div ref={holder} className="chart" />
    </figure>
  );
}
