// How times, durations and numbers read in the tables: local time to the second, durations
// in the largest units that matter, metric values with 6 significant digits.

const pad = (n: number) => String(n).padStart(2, "0");

/** seconds since the epoch -> "2026-05-01 14:03:09" (local time) */
export function formatTime(seconds: number | null | undefined): string {
  if (seconds == null) return "";
  const d = new Date(seconds * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** the run's duration: end (or now, while it runs) minus start */
export function formatDuration(start: number | null, end: number | null, now = Date.now() / 1000): string {
  if (start == null) return "";
  const total = Math.max(0, Math.round((end ?? now) - start));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h ${pad(m)}m ${pad(s)}s`;
  if (m > 0) return `${m}m ${pad(s)}s`;
  return `${s}s`;
}

export function formatNumber(value: number | null | undefined): string {
  if (value == null) return "";
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  return Number(value.toPrecision(6)).toString();
}

export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}
