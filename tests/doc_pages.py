"""Run the code blocks of a documentation page, in order, as a reader would.

The rules a Get started page follows (``docs/get-started/*.md``):

- a block with a ``title="path"`` is a file: it is written to that path of the working folder;
- a block right after ``<!-- not run: REASON -->`` is shown only (it installs something, or
  starts what the test starts itself);
- ``python`` blocks run in one Python process, one after another, sharing their variables
  (as in a notebook); ``r`` blocks likewise in one R process; ``sh`` blocks with bash
  (``set -euo pipefail``), each on its own;
- a code block of another language must be a file (``text``, ``yaml`` with a title).

Blocks may sit in content tabs (indented under ``=== "Python"``). ``substitutions`` replace
text the page shows (a cluster's address) with what the test machine has; each must occur
in the page, so a page that changes fails loudly rather than running something else.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r'^(?P<indent>[ \t]*)```(?P<lang>[A-Za-z0-9_+-]*)(?P<attrs>[^\n]*)$')
TITLE = re.compile(r'title="([^"]+)"')
NOT_RUN = re.compile(r"^\s*<!-- not run: (?P<reason>[^>]+?) -->\s*$")
RUN_LANGS = ("python", "r", "sh")
DONE = "@@block-done"

PYTHON_DRIVER = r"""
import sys, traceback
namespace = {"__name__": "__main__"}
for line in sys.stdin:
    path = line.strip()
    try:
        exec(compile(open(path).read(), path, "exec"), namespace)
        status = "ok"
    except BaseException:
        traceback.print_exc()
        status = "error"
    sys.stderr.flush()
    print("\n@@block-done " + status, flush=True)
"""

R_DRIVER = r"""
con <- file("stdin"); open(con)
while (length(path <- readLines(con, n = 1)) > 0) {
  status <- tryCatch({
    source(path, local = globalenv(), echo = FALSE, print.eval = TRUE); "ok"
  }, error = function(e) { message("Error: ", conditionMessage(e)); "error" })
  cat("\n@@block-done ", status, "\n", sep = ""); flush(stdout())
}
"""


@dataclass
class Block:
    lang: str
    code: str
    line: int
    title: str | None = None
    not_run: str | None = None


def blocks_of(text: str) -> list[Block]:
    lines = text.splitlines()
    found, i = [], 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match or not match.group("lang"):
            i += 1
            continue
        indent, start = match.group("indent"), i
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "```"
                    and lines[j].startswith(indent)), None)
        if end is None:
            raise ValueError(f"line {start + 1}: a code block that is never closed")
        code = "\n".join(line[len(indent):] if line.startswith(indent) else line.lstrip()
                         for line in lines[start + 1:end]) + "\n"
        previous = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        not_run = NOT_RUN.match(previous)
        title = TITLE.search(match.group("attrs"))
        found.append(Block(match.group("lang").lower(), code, start + 1, title.group(1) if title else None,
                           not_run.group("reason") if not_run else None))
        i = end + 1
    return found


class _Session:
    """One long-lived interpreter that runs block files sent to it on stdin."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]):
        self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1)

    def run(self, path: Path, timeout: float) -> tuple[bool, str]:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(f"{path}\n")
        self.proc.stdin.flush()
        killer = threading.Timer(timeout, self.proc.kill)
        killer.start()
        output = []
        try:
            for line in self.proc.stdout:
                if line.startswith(DONE):
                    return line.split()[1] == "ok", "".join(output)
                output.append(line)
        finally:
            killer.cancel()
        return False, "".join(output) + f"\n(the interpreter ended, exit code {self.proc.wait()}; "\
                                        f"killed after {timeout:g} s?)"

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()


@dataclass
class PageRun:
    ran: dict[str, int]
    files: list[str]
    skipped: list[str]
    transcript: str


def run_page(page: Path, workdir: Path, *, python: str, env: dict[str, str],
             substitutions: dict[str, str] | None = None, timeout: float = 600) -> PageRun:
    """Run ``page``'s blocks in ``workdir``; raise AssertionError naming the block that failed."""
    text = page.read_text()
    for old, new in (substitutions or {}).items():
        assert old in text, f"{page.name}: the test replaces {old!r}, which the page no longer shows"
        text = text.replace(old, new)
    sessions: dict[str, _Session] = {}
    result = PageRun({lang: 0 for lang in RUN_LANGS}, [], [], "")
    chunks = workdir / ".blocks"
    chunks.mkdir(parents=True, exist_ok=True)
    try:
        for number, block in enumerate(blocks_of(text)):
            where = f"{page.name}, line {block.line} ({block.lang} block)"
            if block.not_run:
                result.skipped.append(f"{where}: {block.not_run}")
                continue
            if block.title:
                target = (workdir / block.title).resolve()
                assert target.is_relative_to(workdir.resolve()), f"{where}: title leaves the folder"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(block.code)
                result.files.append(block.title)
                continue
            assert block.lang in RUN_LANGS, (
                f"{where}: a {block.lang} block that is neither a file (title=\"...\") nor marked "
                f"<!-- not run: ... -->")
            if block.lang == "sh":
                done = subprocess.run(["bash", "-euo", "pipefail", "-c", block.code], cwd=workdir, env=env,
                                      capture_output=True, text=True, timeout=timeout)
                ok, output = done.returncode == 0, done.stdout + done.stderr
            else:
                if block.lang not in sessions:
                    argv = [python, "-u", "-c", PYTHON_DRIVER] if block.lang == "python" else \
                        ["Rscript", "-e", R_DRIVER]
                    sessions[block.lang] = _Session(argv, workdir, env)
                chunk = chunks / f"{number:03d}.{'py' if block.lang == 'python' else 'R'}"
                chunk.write_text(block.code)
                ok, output = sessions[block.lang].run(chunk, timeout)
            result.transcript += f"--- {where}\n{output}"
            assert ok, f"{where} failed:\n{block.code}\n--- its output:\n{output[-6000:]}"
            result.ran[block.lang] += 1
    finally:
        for session in sessions.values():
            session.close()
    return result


def reader_env(python: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """What a reader's shell has: this Python's scripts (``runyard``) first on PATH."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(python).parent), env.get("PATH", "")])
    for key in ("RUNYARD_WORKSPACE", "RUNYARD_RUN_ID", "RUNYARD_TRACKING_URI", "RUNYARD_TOKEN"):
        env.pop(key, None)
    env.update(extra or {})
    return env
