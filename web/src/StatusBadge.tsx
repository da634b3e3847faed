// A run's (or a mini batch's) status as a coloured word: the colour says waiting, active, done, failed or canceled.

function tone(status: string): string {
  if (status === "Completed" || status === "Reused" || status === "Succeeded") return "ok";
  if (status === "NotStarted" || status === "NotRun") return "idle";
  if (status === "Failed") return "failed";
  if (status === "Canceled" || status === "CancelRequested") return "canceled";
  return "active";
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`status status-${tone(status)}`}>{status}</span>;
}
