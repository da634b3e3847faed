"""The documentation is kept true: the site builds in strict mode with the R package's pkgdown
site (whose articles are the vignettes, knitted with real runs), loads nothing from outside,
and the code blocks of the Get started pages run on every target they show."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from doc_pages import blocks_of, reader_env, run_page
from runyard.compute.local_env import submitting_interpreter

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import build_docs  # noqa: E402

GET_STARTED = ROOT / "docs" / "get-started"
VIGNETTES = sorted((ROOT / "vignettes").glob("*.Rmd"))


# -- the site ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both sites, built once for this module as `make docs` builds them."""
    out = tmp_path_factory.mktemp("site") / "site"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_docs.py"), "--out", str(out)],
                          capture_output=True, text=True, timeout=1500, env=_r_env())
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-8000:]
    return out


def _r_env() -> dict[str, str]:
    """A reader's environment (runyard on PATH, no job's variables) with the checkout's R library."""
    python = submitting_interpreter()
    return reader_env(python, {"RETICULATE_PYTHON": python,
                               "R_LIBS": os.environ.get("R_LIBS", str(ROOT / ".r-lib"))})


def nav_pages(nav) -> list[str]:
    pages = []
    for entry in nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        pages += nav_pages(value) if isinstance(value, list) else [value]
    return pages


def test_every_page_of_the_navigation_is_built_with_the_r_site(site: Path):
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    for page in nav_pages(config["nav"]):
        assert (site / page.replace(".md", ".html")).is_file(), page
    # every exported R function has its page, every vignette its article
    exports = re.findall(r"^export\(([^)]+)\)", (ROOT / "r-package" / "NAMESPACE").read_text(), re.MULTILINE)
    assert len(exports) > 60
    for name in exports:
        assert (site / "r" / "reference" / f"{name}.html").is_file(), name
    for vignette in VIGNETTES:
        assert (site / "r" / "articles" / f"{vignette.stem}.html").is_file(), vignette.name
    # the main site links to the R site, which links back
    assert 'href="../r/index.html"' in (site / "reference" / "r.html").read_text()
    assert "../index.html" in (site / "r" / "index.html").read_text()


def test_the_generated_references_hold_what_the_code_has(site: Path):
    from runyard.cli.main import load_commands
    cli = (site / "reference" / "cli.html").read_text()
    for group in load_commands().commands:
        assert f"runyard {group}" in cli, group
    rest = (site / "reference" / "rest-api.html").read_text()
    assert "POST /api/v1/runs/{run_id}/job-token" in rest and "RunUpdateBody" in rest
    schemas = (site / "reference" / "yaml.html").read_text()
    assert "process_count_per_instance" in schemas and "max_concurrent_steps" in schemas
    assert (site / "reference" / "schemas" / "command-job.schema.json").is_file()
    api = (site / "reference" / "python" / "workspace-and-runs.html").read_text()
    assert "wait_for_completion" in api and "get_metric_history" in api
    for page in (site / "reference" / "python").glob("*.html"):  # examples are code, without test notes
        text = page.read_text()
        assert "doctest:" not in text and "<blockquote>" not in text, page.name
    assert "&gt;&gt;&gt; model = Model.register" in re.sub(r"<[^>]+>", "",
                                                          (site / "reference" / "python" / "models.html").read_text())


def test_the_site_loads_nothing_from_outside(site: Path):
    assert build_docs.outside_resources(site) == []
    # the check itself: a page with a CDN script is caught
    page = site / "reference" / "outside.html"
    page.write_text('<script src="https://cdn.example.org/x.js"></script><a href="https://example.org">ok</a>')
    try:
        assert build_docs.outside_resources(site) == ["reference/outside.html: https://cdn.example.org/x.js"]
    finally:
        page.unlink()


# Output that only appears when the vignettes' runs really happened.
EXPECTED = {
    "train-from-r": ["Status: Completed", "outputs/lm_degree_4.rds", "degree 4: rmse", "REstimator"],
    "r-and-python": ["Python", "fit.R"],
    "mixed-pipeline": ["test_r2 : chr",  # the model's tag, which the register step set from the metric
                       "diabetes-lm:1", "diabetes-lm:2",  # registered, then again with a new test_size
                       "fit in R reused pipeline-mixed_"],  # the resubmission reused the R step's run
    "automl-from-r": ["Missing feature values imputation", "VotingEnsemble", "StackEnsemble"],
    "many-models-from-r": ["no sales recorded for S05", "outputs/models/S08.rds",  # the R workers ran
                           "summary: 7 of 8 mini batches succeeded, 1 failed (sales:store=S05)",
                           "S01 Succeeded         TRUE",  # the resubmission carried S01 over
                           "(Intercept)        week"],  # S01's registered model, downloaded
}


def test_there_are_vignettes():
    assert {v.stem for v in VIGNETTES} >= {"train-from-r", "r-and-python", "mixed-pipeline"}


@pytest.mark.parametrize("vignette", VIGNETTES, ids=lambda p: p.stem)
def test_the_vignettes_knit_with_real_runs(site: Path, vignette: Path):
    article = site / "r" / "articles" / f"{vignette.stem}.html"
    html = article.read_text()
    for snippet in EXPECTED.get(vignette.stem, []):
        assert snippet in html, f"{vignette.name}: {snippet!r} not in the article"
    for image in re.findall(r'<img src="([^"]+\.png)"', html):
        assert (article.parent / image).is_file(), f"{vignette.name}: the plot {image} was not written"
    if vignette.stem == "train-from-r":  # its base-R plot
        assert re.search(r'<img src="[^"]+\.png"', html)


def test_docs_serve_serves_the_built_site(site: Path):
    from docker_services import free_port
    port = free_port()
    server = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "build_docs.py"), "--out", str(site),
                               "--no-build", "--serve", str(port)], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/r/index.html", timeout=2) as r:
                    assert r.status == 200 and b"runyard" in r.read()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, server.stdout.read()
                time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=2) as r:
            assert b"runyard" in r.read()
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stdout.close()


# -- strict mode: what must fail the build ----------------------------------------------------
def _small_site(tmp_path: Path, pages: dict[str, str], nav: list) -> Path:
    """A copy of the site's configuration (theme, plugins, hooks, strictness) over ``pages``."""
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "docs" / "hooks", docs / "hooks")
    for name, text in pages.items():
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_text(text)
    config.update(nav=nav, docs_dir=str(docs), site_dir=str(tmp_path / "out"))
    config["plugins"][1]["mkdocstrings"]["handlers"]["python"]["paths"] = [str(ROOT / "python")]
    config["hooks"] = [str(docs / "hooks" / "reference.py")]
    path = tmp_path / "mkdocs.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def _build(config: Path) -> subprocess.CompletedProcess:
    mkdocs = Path(sys.executable).parent / "mkdocs"
    return subprocess.run([str(mkdocs), "build", "--strict", "-f", str(config)], capture_output=True,
                          text=True, timeout=300, env=dict(os.environ, NO_MKDOCS_2_WARNING="1"))


def test_strict_mode_fails_on_a_broken_link_and_a_page_left_out_of_the_navigation(tmp_path: Path):
    good = _small_site(tmp_path / "good", {"index.md": "# Home\n\n[API](api.md)\n", "api.md": "# API\n"},
                       [{"Home": "index.md"}, {"API": "api.md"}])
    assert _build(good).returncode == 0, _build(good).stderr
    bad = _small_site(tmp_path / "bad", {"index.md": "# Home\n\n[gone](no-such-page.md)\n",
                                         "left-out.md": "# Not in the navigation\n"}, [{"Home": "index.md"}])
    done = _build(bad)
    assert done.returncode != 0
    assert "no-such-page.md" in done.stderr and "left-out.md" in done.stderr, done.stderr


def test_strict_mode_fails_on_a_reference_to_nothing(tmp_path: Path):
    bad = _small_site(tmp_path, {"index.md": "# API\n\n::: runyard.workspace.NoSuchClass\n"}, [{"API": "index.md"}])
    done = _build(bad)
    assert done.returncode != 0
    assert "NoSuchClass" in done.stdout + done.stderr


# -- Get started: every block runs --------------------------------------------------------------
def test_get_started_pages_mark_every_block():
    """Every code block either runs, is a file, or says why it does not run."""
    for page in sorted(GET_STARTED.glob("*.md")):
        for block in blocks_of(page.read_text()):
            if block.lang in ("python", "r", "sh") or block.title:
                continue
            pytest.fail(f"{page.name}, line {block.line}: a {block.lang} block that neither runs nor is a file")


def _run(page: str, tmp_path: Path, substitutions: dict[str, str] | None = None,
         extra_env: dict[str, str] | None = None):
    python = submitting_interpreter()
    env = {**_r_env(), **(extra_env or {})}
    work = tmp_path / "reader"
    work.mkdir()
    return run_page(GET_STARTED / page, work, python=python, env=env, substitutions=substitutions)


def test_get_started_from_python(tmp_path: Path):
    result = _run("python.md", tmp_path)
    assert result.ran["python"] >= 2 and result.ran["sh"] >= 1, result
    assert "src/train.py" in result.files
    assert "trained 5 epochs" in result.transcript  # the run's output, streamed


def test_get_started_from_r(tmp_path: Path):
    result = _run("r.md", tmp_path)
    assert result.ran["r"] >= 2, result
    assert "degree 2 rmse" in result.transcript


@pytest.mark.docker
def test_get_started_on_docker(tmp_path: Path, docker_engine, base_image, registry):
    from docker_services import TARGET_SETTINGS
    settings = {**TARGET_SETTINGS, "default_base_image": base_image, "registry": registry}
    settings.pop("memory")
    python_args = "".join(f", {key}={value!r}" for key, value in settings.items())
    r_args = "".join(f", {key} = {value!r}".replace("'", '"') for key, value in settings.items())
    result = _run("docker.md", tmp_path, substitutions={
        'DockerCompute(memory="2g")': f'DockerCompute(memory="2g"{python_args})',
        'docker_compute(memory = "2g")': f'docker_compute(memory = "2g"{r_args})'})
    assert result.ran["python"] >= 1 and result.ran["r"] >= 1 and result.ran["sh"] >= 1, result


@pytest.mark.ray
@pytest.mark.postgres
def test_get_started_on_ray(tmp_path: Path, ray_cluster, workspace_server):
    from conftest import SERVER_TOKEN
    result = _run("ray.md", tmp_path, substitutions={
        '"http://127.0.0.1:8000"': f'"{workspace_server}"',
        '"http://127.0.0.1:8265"': f'"{ray_cluster.address}"'}, extra_env={"RUNYARD_TOKEN": SERVER_TOKEN})
    assert result.ran["python"] >= 1 and result.ran["r"] >= 1, result


# -- the repository's R manifest --------------------------------------------------------------
BASE_R = {"base", "compiler", "datasets", "graphics", "grDevices", "grid", "methods", "parallel",
          "splines", "stats", "stats4", "tcltk", "tools", "utils"}
R_USE = re.compile(r"""\b(?:library|require|requireNamespace)\(\s*["']?([A-Za-z][A-Za-z0-9.]*)|"""
                   r"""\b([A-Za-z][A-Za-z0-9.]*):::?[A-Za-z.]""")


def r_packages_used(paths) -> set[str]:
    used = set()
    for path in paths:
        for match in R_USE.finditer(path.read_text()):
            used.add(match.group(1) or match.group(2))
    return used - BASE_R


def test_the_root_description_lists_what_the_vignettes_and_r_examples_load():
    sources = [*VIGNETTES, *(ROOT / "examples").rglob("*.R"), *(ROOT / "examples").rglob("*.Rmd")]
    used = r_packages_used(sources)
    assert {"runyard", "knitr", "rmarkdown"} <= used  # the check sees what they load
    done = subprocess.run(["Rscript", "-e", "cat(remotes::local_package_deps('.', dependencies = TRUE), sep = '\\n')"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    declared = set(done.stdout.split())
    assert used - declared == set(), f"loaded but not in DESCRIPTION: {sorted(used - declared)}"
    assert declared - used == set(), f"in DESCRIPTION but loaded by nothing: {sorted(declared - used)}"
    description = (ROOT / "DESCRIPTION").read_text()
    assert re.search(r"^Remotes: local::r-package$", description, re.MULTILINE)  # runyard from this repository
    assert (ROOT / "r-package" / "DESCRIPTION").read_text().startswith("Package: runyard\n")


def test_the_readme_is_a_front_page_whose_links_exist():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 150
    assert "make demo" in readme and "make test" in readme and "make docs" in readme
    links = re.findall(r"\]\(([^)#]+)\)", readme)
    assert len(links) > 20
    for link in links:
        assert not link.startswith("http") and (ROOT / link).is_file(), f"README links to {link}, which is not there"
