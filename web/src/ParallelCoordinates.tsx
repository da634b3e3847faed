// Compared runs as parallel coordinates (SVG): an axis per differing property or tag and per
// metric's latest value, numbers on a linear scale and text as categories, one line per run.
// Pointing at a line or tabbing to it highlights that run; the same values are in the table
// below the chart for those who do not see it.
import { useState } from "react";
import { formatNumber } from "./format";
import { linePath, parallelCoordinates, type PcColumn } from "./parallelCoordinates";

const AXIS_GAP = 150;
const HEIGHT = 300;
const PAD = { left: 110, right: 80, top: 36, bottom: 24 };
const LABEL_CHARS = 22;
const TICK_CHARS = 14;

/** text cut to fit beside an axis; the whole of it is in the table and the line's label */
function cut(text: string, chars: number): string {
  return text.length > chars ? `${text.slice(0, chars - 1)}…` : text;
}
const COLOURS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4d7c0f", "#be185d"];

export function ParallelCoordinates({ runIds, labels, columns }: {
  runIds: string[]; labels: Record<string, string>; columns: PcColumn[];
}) {
  const [highlighted, setHighlighted] = useState<string | undefined>(undefined);
  const { axes, lines } = parallelCoordinates(runIds, columns);
  if (axes.length < 2) return <p className="muted">Parallel coordinates need two values or more that differ between the runs.</p>;
  const width = PAD.left + PAD.right + AXIS_GAP * (axes.length - 1);
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (k: number) => PAD.left + k * AXIS_GAP;
  const y = (at: number) => PAD.top + (1 - at) * plotH;
  const show = (value: unknown) => (typeof value === "number" ? formatNumber(value) : value == null ? "—" : String(value));
  const describe = (k: number) =>
    `${labels[runIds[k]!] ?? runIds[k]}: ${axes.map((axis) => `${axis.key} ${show(axis.values[k])}`).join(", ")}`;

  return (
    <figure className="parallel-coordinates">
      <figcaption>
        <strong>Parallel coordinates</strong>{" "}
        <span className="muted">{axes.length} axes, {lines.length} runs; point at a line or Tab to it to pick its run out</span>
      </figcaption>
      <div className="wide">
        <svg width={width} height={HEIGHT} role="group" aria-label="Parallel coordinates of the compared runs">
          {axes.map((axis, k) => (
            <g key={axis.key} className="pc-axis" aria-hidden="true">
              <line x1={x(k)} y1={PAD.top} x2={x(k)} y2={PAD.top + plotH} className="axis" />
              <text x={x(k)} y={PAD.top - 18} textAnchor="middle" className="axis-label">
                <title>{axis.key}</title>{cut(axis.key, LABEL_CHARS)}
              </text>
              {axis.scale.ticks.map((tick) => (
                <text key={tick.label} x={x(k) - 5} y={y(tick.at) + 4} textAnchor="end" className="tick">{cut(tick.label, TICK_CHARS)}</text>
              ))}
            </g>
          ))}
          {lines.map((line, k) => {
            const on = highlighted === line.runId;
            return (
              <path key={line.runId} d={linePath(line.positions, x, y)} tabIndex={0} role="img" aria-label={describe(k)}
                    data-run={line.runId}
                    className={`pc-line${on ? " highlighted" : highlighted ? " dimmed" : ""}`}
                    stroke={COLOURS[k % COLOURS.length]}
                    onMouseEnter={() => setHighlighted(line.runId)} onMouseLeave={() => setHighlighted(undefined)}
                    onFocus={() => setHighlighted(line.runId)} onBlur={() => setHighlighted(undefined)}>
                <title>{describe(k)}</title>
              </path>
            );
          })}
        </svg>
      </div>
      <p className="muted pc-status" aria-live="polite">{highlighted ? describe(runIds.indexOf(highlighted)) : ""}</p>
      <details>
        <summary>The chart's values as a table</summary>
        <table aria-label="Parallel coordinates values">
          <thead>
            <tr><th scope="col">Run</th>{axes.map((axis) => <th key={axis.key} scope="col">{axis.key}</th>)}</tr>
          </thead>
          <tbody>
            {runIds.map((runId, k) => (
              <tr key={runId} className={highlighted === runId ? "highlighted" : undefined}>
                <th scope="row">{labels[runId] ?? runId}</th>
                {axes.map((axis) => <td key={axis.key}>{show(axis.values[k])}</td>)}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
