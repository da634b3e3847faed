#!/usr/bin/env python3
"""Build the studio's UI (web/, TypeScript and React) into the Python package.

The built files are committed at ``python/runyard/studio/ui/`` and shipped in the wheel, so
``pip install`` users and R users never need Node. This script installs the exact packages
of ``web/package-lock.json`` (``npm ci``, when ``web/node_modules`` is missing or older than
the lockfile) and runs ``npm run build`` (the type check, then Vite) into that folder. The
build is deterministic: the same sources and lockfile give byte-identical files.

``--check`` runs the UI's unit tests (``npm test``: Vitest), then builds into a temporary
folder instead and compares it with the committed folder, naming each file that differs, is
missing or should not be there (``make test`` runs this, so a commit whose UI build does not
match its sources fails).

    python3 scripts/build_ui.py [--check]

Standard library only; needs Node.js 18 or later and npm.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "web"
BUILT = ROOT / "python" / "runyard" / "studio" / "ui"
FIX = "run `python3 scripts/build_ui.py` and commit python/runyard/studio/ui/"


class BuildError(Exception):
    pass


def npm(*args: str) -> None:
    """``npm ARGS`` in web/; a BuildError with its output when it fails."""
    if shutil.which("npm") is None:
        raise BuildError("npm is not installed: the studio's UI is built with Node.js (18 or later) and npm, "
                         "e.g. `apt-get install nodejs npm`")
    done = subprocess.run(["npm", *args], cwd=WEB, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        raise BuildError(f"`npm {' '.join(args)}` in web/ failed (exit {done.returncode}):\n{done.stdout}")


def install_packages() -> None:
    """``npm ci`` unless web/node_modules already holds what the lockfile says."""
    lockfile = WEB / "package-lock.json"
    installed = WEB / "node_modules" / ".package-lock.json"  # npm writes it after each install
    if installed.is_file() and installed.stat().st_mtime >= lockfile.stat().st_mtime:
        return
    print("installing the UI's packages (npm ci)...", flush=True)
    npm("ci", "--no-audit", "--no-fund")


def build(out: Path) -> None:
    install_packages()
    npm("run", "build", "--", "--outDir", str(out), "--emptyOutDir")


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} if folder.is_dir() else set()


def differences(built: Path, committed: Path) -> list[str]:
    """What differs between a fresh build and the committed folder, a line per file."""
    fresh, kept = files_under(built), files_under(committed)
    lines = [f"missing: {name} (the build makes it; it is not committed)" for name in sorted(fresh - kept)]
    lines += [f"extra: {name} (committed, but the build no longer makes it)" for name in sorted(kept - fresh)]
    lines += [f"differs: {name}" for name in sorted(fresh & kept)
              if not filecmp.cmp(built / name, committed / name, shallow=False)]
    return lines


def check() -> int:
    install_packages()
    npm("test")
    with tempfile.TemporaryDirectory(prefix="runyard-ui-") as tmp:
        out = Path(tmp) / "ui"
        build(out)
        problems = differences(out, BUILT)
    relative = BUILT.relative_to(ROOT)
    if problems:
        print(f"the committed studio UI ({relative}/) does not match a build of web/:", file=sys.stderr)
        for line in problems:
            print(f"  {line}", file=sys.stderr)
        print(f"fix: {FIX}", file=sys.stderr)
        return 1
    print(f"the committed studio UI ({relative}/) matches a build of web/ ({len(files_under(BUILT))} files)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="run the unit tests, build into a temporary folder and compare with the committed build")
    args = parser.parse_args(argv)
    try:
        if args.check:
            return check()
        build(BUILT)
    except BuildError as e:
        print(f"build_ui: {e}", file=sys.stderr)
        return 1
    print(f"built the studio UI into {BUILT.relative_to(ROOT)}/ ({len(files_under(BUILT))} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
