// A run's logs (its logs/ folder), followed while the run is live: the text from the last
// offset read, asked for with a long poll (the server answers as soon as the log grows, so a
// line shows about 0.1 s after it is written), and once more after the run ended. The server
// answers with whole characters and the offset to ask from next, so a lost connection or a
// slow poll repeats and loses nothing. Only the last stretch of a long log is kept on screen;
// the whole file is among the run's files.
import { useEffect, useLayoutEffect, useRef, useState } from "react";
import { api, errorMessage, type LogFile } from "./api";
import { formatCount } from "./format";

/** how long the server may hold a read while the log does not grow */
const LONG_POLL_S = 10;
/** the pause after a read that brought nothing (or failed) */
const POLL_MS = 1000;
/** a log longer than this opens at its end */
const TAIL_BYTES = 1024 * 1024;
/** text kept on screen; past it the oldest half is dropped */
const MAX_CHARS = 2 * 1024 * 1024;
const PREFERRED = "driver.log";

export function LiveLog({ runId, live }: { runId: string; live: boolean }) {
  const [logs, setLogs] = useState<LogFile[]>([]);
  const [chosen, setChosen] = useState<string | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);

  useEffect(() => {
    let stopped = false;
    const list = () => api.logs(runId).then(
      (found) => !stopped && setLogs(found),
      (e: unknown) => !stopped && setError(errorMessage(e)),
    );
    list();
    if (!live) return () => { stopped = true; };
    const timer = window.setInterval(list, POLL_MS * 3); // new files appear while it runs
    return () => {
      stopped = true;
      window.clearInterval(timer);
    };
  }, [runId, live]);

  const name = chosen ?? (logs.some((log) => log.name === PREFERRED) ? PREFERRED : logs[0]?.name);
  return (
    <div className="live-log">
      <div className="toolbar">
        {logs.length > 1 && (
          <label>
            Log{" "}
            <select value={name} onChange={(e) => setChosen(e.target.value)}>
              {logs.map((log) => <option key={log.name} value={log.name}>{log.name}</option>)}
            </select>
          </label>
        )}
        {live && <span className="muted">following…</span>}
      </div>
      {error && <p role="alert" className="error">{error}</p>}
      {name === undefined
        ? <p className="muted">{live ? "No logs yet." : "This run has no logs."}</p>
        : <FollowedLog key={`${runId}/${name}`} runId={runId} name={name}
                       size={logs.find((log) => log.name === name)?.size ?? 0} live={live} />}
    </div>
  );
}

function FollowedLog({ runId, name, size, live }: { runId: string; name: string; size: number; live: boolean }) {
  const [text, setText] = useState("");
  const [skipped, setSkipped] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const liveNow = useRef(live);
  liveNow.current = live;
  const startSize = useRef(size); // where to begin is decided once, when the log is opened

  useEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    const closed = new AbortController(); // a long poll held open for a view that is gone is ended
    let offset = Math.max(0, startSize.current - TAIL_BYTES);
    let atLineStart = offset === 0; // a tail starts mid-line: its first partial line is dropped
    let kept = 0; // characters on screen
    setSkipped(offset > 0);

    const append = (chunk: string) => {
      if (!atLineStart) {
        const newline = chunk.indexOf("\n");
        if (newline < 0) return;
        chunk = chunk.slice(newline + 1);
        atLineStart = true;
      }
      if (!chunk) return;
      kept += chunk.length;
      if (kept <= MAX_CHARS) {
        setText((shown) => shown + chunk);
        return;
      }
      kept = MAX_CHARS / 2;
      setSkipped(true);
      setText((shown) => (shown + chunk).slice(-MAX_CHARS / 2).replace(/^[^\n]*\n/, ""));
    };

    const poll = async () => {
      const wasLive = liveNow.current;
      let grew = false;
      try {
        for (;;) { // until caught up: a chunk is at most 256 KiB
          const chunk = await api.readLog(runId, name, offset, wasLive ? LONG_POLL_S : 0, closed.signal);
          if (stopped) return;
          append(chunk.text);
          const moved = chunk.next_offset > offset;
          grew ||= moved;
          offset = chunk.next_offset;
          if (!moved || offset >= chunk.size) break;
        }
        setError(undefined);
      } catch (e) {
        if (stopped) return;
        setError(errorMessage(e));
      }
      // while live, again (at once after new text); the first read begun after the run ended is the last
      if (!stopped && wasLive) timer = window.setTimeout(poll, grew ? 0 : POLL_MS);
    };
    poll();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      closed.abort();
    };
  }, [runId, name]);

  const view = useRef<HTMLPreElement>(null);
  const following = useRef(true);
  useLayoutEffect(() => {
    if (view.current && following.current) view.current.scrollTop = view.current.scrollHeight;
  }, [text]);

  return (
    <>
      {error && <p role="alert" className="error">{error}</p>}
      {skipped && (
        <p className="muted">Earlier lines are not shown ({formatCount(size)} bytes in all): the whole log is
          logs/{name} among the files.</p>
      )}
      <pre ref={view} role="log" aria-label={name} aria-live="off" tabIndex={0} className="log"
           onScroll={(e) => {
             const pre = e.currentTarget;
             following.current = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 24;
           }}>
        {text}
      </pre>
    </>
  );
}
