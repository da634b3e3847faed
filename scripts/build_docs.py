#!/usr/bin/env python3
"""Build the documentation site: MkDocs (strict) into site/, the R package's pkgdown site into
site/r/ (its articles are the repository's vignettes, knitted with real runs), then check that
the pages load nothing from outside (they must work offline).

    python3 scripts/build_docs.py [--out site] [--no-r] [--serve [PORT] [--no-build]]

``make docs`` runs it; ``make docs-serve`` builds and serves the result on 127.0.0.1. It needs
the test extras installed into .venv (mkdocs and its plugins come with them) and, for the R
site, the R package in .r-lib (``make r-install``) and Debian's r-cran-pkgdown.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
R_LIB = ROOT / ".r-lib"

#: a resource the browser would fetch from elsewhere: src/href of scripts, styles, images,
#: fonts, frames, and url()/@import in CSS. Plain <a href> links to other sites are fine.
_TAG = re.compile(r"<(script|link|img|iframe|source|video|audio)\b[^>]*>", re.IGNORECASE)
_ATTR = re.compile(r"""\b(src|href|srcset|data-src)\s*=\s*["']?\s*((?:https?:)?//[^"'\s>]+)""", re.IGNORECASE)
_CSS_URL = re.compile(r"""(?:url\(\s*["']?|@import\s+["'])((?:https?:)?//[^"')\s]+)""", re.IGNORECASE)


class DocsError(RuntimeError):
    pass


def run(argv: list[str], what: str, **kwargs) -> None:
    started = time.monotonic()
    result = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise DocsError(f"{what} failed (exit code {result.returncode}):\n"
                        + "\n".join((result.stdout + result.stderr).splitlines()[-60:]))
    print(f"{what}: done in {time.monotonic() - started:.0f} s", flush=True)


def build_mkdocs(out: Path) -> None:
    mkdocs = VENV_BIN / "mkdocs"
    if not mkdocs.is_file():
        raise DocsError(f"{mkdocs} is missing: run `make install-test` (mkdocs comes with the test extras)")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    run([str(mkdocs), "build", "--strict", "--clean", "--site-dir", str(out)], "mkdocs build --strict",
        cwd=ROOT, env=env)


def build_pkgdown(out: Path) -> None:
    """pkgdown on a copy of r-package/ that holds the repository's vignettes (and the
    examples they read, at the same place relative to them)."""
    if not (R_LIB / "runyard").is_dir():
        raise DocsError(f"the R package is not installed in {R_LIB}: run `make r-install`")
    with tempfile.TemporaryDirectory(prefix="runyard-pkgdown-") as work:
        package = Path(work) / "runyard"
        shutil.copytree(ROOT / "r-package", package)
        shutil.copytree(ROOT / "vignettes", package / "vignettes")
        shutil.copytree(ROOT / "examples", package / "examples")
        env = dict(os.environ, R_LIBS=str(R_LIB), RETICULATE_PYTHON=str(VENV_BIN / "python"))
        # pkgdown.internet = FALSE: no lookup of the package on CRAN (none answers offline)
        code = ("options(pkgdown.internet = FALSE); pkgdown::build_site(pkg = {pkg!r}, override = list(destination = {dest!r}), "
                "devel = FALSE, install = FALSE, new_process = FALSE, preview = FALSE)"
                ).format(pkg=str(package), dest=str(out / "r"))
        run(["Rscript", "-e", code], "pkgdown::build_site", cwd=work, env=env)


def outside_resources(site: Path) -> list[str]:
    """Every resource a page of ``site`` would load from another host, as 'file: url'."""
    found = []
    for path in sorted(site.rglob("*")):
        if path.suffix not in (".html", ".css") or not path.is_file():
            continue
        text = path.read_text(errors="replace")
        urls = [m.group(1) for m in _CSS_URL.finditer(text)]
        if path.suffix == ".html":
            for tag in _TAG.finditer(text):
                if tag.group(1).lower() == "link" and not re.search(
                        r"""rel=["']?(stylesheet|icon|preload|prefetch|modulepreload|manifest)""", tag.group(0), re.I):
                    continue  # <link rel="canonical"> and the like fetch nothing
                urls += [m.group(2) for m in _ATTR.finditer(tag.group(0))]
        found += [f"{path.relative_to(site)}: {url}" for url in urls]
    return found


def build(out: Path, with_r: bool = True) -> None:
    build_mkdocs(out)
    if with_r:
        build_pkgdown(out)
    outside = outside_resources(out)
    if outside:
        raise DocsError("the site loads resources from outside, so it would not work offline:\n  "
                        + "\n  ".join(outside[:40]))
    print(f"the site is in {out} (open {out / 'index.html'})")


def serve(out: Path, port: int) -> None:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        print(f"serving {out} at http://127.0.0.1:{port}/ (Ctrl-C stops)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "site", help="where the site goes (default: site/)")
    parser.add_argument("--no-r", action="store_true", help="leave out the R package's pkgdown site")
    parser.add_argument("--serve", nargs="?", type=int, const=8000, metavar="PORT",
                        help="then serve the site on 127.0.0.1:PORT (default 8000)")
    parser.add_argument("--no-build", action="store_true", help="serve the site built before (with --serve)")
    args = parser.parse_args()
    out = args.out.resolve()
    if args.no_build:
        if not (out / "index.html").is_file():
            print(f"error: no site in {out}: run `make docs` first", file=sys.stderr)
            return 1
    else:
        try:
            build(out, with_r=not args.no_r)
        except DocsError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
    if args.serve:
        serve(out, args.serve)
    return 0


if __name__ == "__main__":
    sys.exit(main())
