"""Run seen from inside a job: Run.get_context() and everything a script logs or uploads."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

import pytest

from runyard import ScriptRunConfig
from runyard import status as st

# a 1x1 PNG
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")

LOGGING_SCRIPT = """\
import io
from runyard import Run

class Figure:
    # what log_image(plot=...) needs from a matplotlib figure: savefig(buffer, format=...)
    def savefig(self, buffer, format):
        assert format == "png"
        buffer.write(open("pixel.png", "rb").read())

run = Run.get_context()
assert Run.get_context() is run
run.log("accuracy", 0.9)
run.log("epochs", 3)
run.log("loss", 0.5)
run.log("loss", 0.25)
run.log("note", "ok")
run.log_list("fold_scores", [0.1, 0.2, 0.3])
run.log_row("curve", epoch=1, loss=0.5)
run.log_row("curve", epoch=2, loss=0.25)
run.log_table("table", {"x": [1, 2], "y": [10, 20]})
run.log_image("pixel_file", path="pixel.png")
run.log_image("pixel_plot", plot=Figure())
run.upload_file("uploads/config.txt", "config.txt")
import os
os.symlink("a.txt", "assets/alias.txt")  # uploaded as a copy of a.txt
os.symlink("/etc/passwd", "assets/evil")  # left out, said in driver.log
run.upload_folder("uploads/assets", "assets")
run.tag("phase", "train")

child = run.child_run("fold-1")
child.log("score", 0.7)
child.log("score", 0.8)
child.complete()
with run.child_run("fold-2") as second:
    second.log("score", 0.9)
    grandchild = second.child_run("inner")
    grandchild.log("depth", 2)
    grandchild.complete()
try:
    with run.child_run("fold-3") as third:
        raise ValueError("fold 3 broke")
except ValueError:
    pass
run.child_run("left-open")  # never completed: it ends with its parent
run.complete()
print("script done")
"""


@pytest.fixture
def logged(experiment, project, compute_target):
    src = project({"log.py": LOGGING_SCRIPT, "pixel.png": PIXEL, "config.txt": "lr=0.1",
                   "assets/a.txt": "A", "assets/deep/b.txt": "B"})
    run = experiment.submit(ScriptRunConfig(str(src), script="log.py", compute_target=compute_target))
    details = run.wait_for_completion()
    assert details["status"] == st.COMPLETED, details["error"]
    return run


def test_metrics_logged_in_a_job(logged):
    metrics = logged.get_metrics()
    assert metrics == {
        "accuracy": 0.9,
        "epochs": 3,
        "loss": [0.5, 0.25],
        "note": "ok",
        "fold_scores": [0.1, 0.2, 0.3],
        "curve": {"epoch": [1, 2], "loss": [0.5, 0.25]},
        "table": {"x": [1, 2], "y": [10, 20]},
        "pixel_file": "images/pixel_file.png",
        "pixel_plot": "images/pixel_plot.png",
    }
    assert type(metrics["epochs"]) is int


def test_images_and_uploads_are_run_files(logged, tmp_path):
    names = logged.get_file_names()
    for name in ("images/pixel_file.png", "images/pixel_plot.png", "uploads/config.txt",
                 "uploads/assets/a.txt", "uploads/assets/deep/b.txt", "uploads/assets/alias.txt"):
        assert name in names
    assert "uploads/assets/evil" not in names
    assert "runyard: left out uploads/assets/evil: a link to a file outside uploads/assets/ (/etc/passwd)" \
        in logged.get_log()
    for image in ("images/pixel_file.png", "images/pixel_plot.png"):
        assert Path(logged.download_file(image, tmp_path / "x.png")).read_bytes() == PIXEL
    logged.download_files(prefix="uploads/", output_directory=tmp_path / "up")
    assert (tmp_path / "up" / "uploads" / "assets" / "deep" / "b.txt").read_text() == "B"
    assert (tmp_path / "up" / "uploads" / "config.txt").read_text() == "lr=0.1"
    alias = tmp_path / "up" / "uploads" / "assets" / "alias.txt"
    assert alias.read_text() == "A" and not alias.is_symlink()


def test_tags_set_in_a_job(logged):
    assert logged.get_tags() == {"phase": "train"}


def test_child_runs(logged):
    children = logged.get_children()
    assert [c.display_name for c in children] == ["fold-1", "fold-2", "fold-3", "left-open"]
    by_name = {c.display_name: c for c in children}
    assert by_name["fold-1"].get_metrics() == {"score": [0.7, 0.8]}
    assert by_name["fold-1"].get_status() == st.COMPLETED
    assert by_name["fold-2"].get_metrics() == {"score": 0.9}
    assert by_name["fold-2"].get_status() == st.COMPLETED
    assert by_name["fold-3"].get_status() == st.FAILED
    assert by_name["fold-3"].get_details()["error"]["message"] == "ValueError: fold 3 broke"
    assert by_name["left-open"].get_status() == st.COMPLETED
    assert all(c.parent == logged for c in children)
    inner = by_name["fold-2"].get_children()
    assert [c.display_name for c in inner] == ["inner"]
    assert [c.display_name for c in logged.get_children(recursive=True)] == [
        "fold-1", "fold-2", "fold-3", "left-open", "inner"]
    recursive = logged.get_metrics(recursive=True)
    assert recursive[inner[0].id] == {"depth": 2}
    assert recursive[logged.id]["accuracy"] == 0.9
    assert [c.id for c in logged.get_children(status="Failed")] == [by_name["fold-3"].id]
    # children are not listed as top-level runs of the experiment
    assert [r.id for r in logged.experiment.get_runs()] == [logged.id]


def test_run_fail_in_a_job_fails_the_run_despite_exit_code_0(experiment, project, compute_target):
    src = project({"fail.py": """\
        from runyard import Run
        run = Run.get_context()
        run.log("before", 1)
        run.fail("validation accuracy below 0.5")
        print("exiting normally")
        """})
    run = experiment.submit(ScriptRunConfig(str(src), script="fail.py", compute_target=compute_target))
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == st.FAILED
    assert details["exitCode"] == 0
    assert details["error"]["message"] == "validation accuracy below 0.5"
    assert run.get_metrics() == {"before": 1}
    from runyard.errors import RunFailedError
    with pytest.raises(RunFailedError, match="validation accuracy below 0.5"):
        run.wait_for_completion()


def test_job_sees_its_variables_and_outputs_folder(experiment, project, compute_target):
    from runyard import RunConfiguration
    src = project({"env.py": """\
        import json, os
        from runyard import Run
        run = Run.get_context()
        keys = ["RUNYARD_RUN_ID", "RUNYARD_EXPERIMENT_NAME", "MY_SETTING"]
        print(json.dumps({k: os.environ.get(k) for k in keys}))
        assert os.path.samefile(os.environ["RUNYARD_OUTPUTS_DIR"], "outputs")
        run.log("run_id", run.id)
        """})
    config = ScriptRunConfig(str(src), script="env.py", compute_target=compute_target,
                             run_config=RunConfiguration(environment_variables={"MY_SETTING": "on"}))
    run = experiment.submit(config)
    run.wait_for_completion()
    assert f'"RUNYARD_RUN_ID": "{run.id}"' in run.get_log()
    assert f'"RUNYARD_EXPERIMENT_NAME": "{experiment.name}"' in run.get_log()
    assert '"MY_SETTING": "on"' in run.get_log()
    assert run.get_metrics() == {"run_id": run.id}


def test_command_job_with_arguments(experiment, project, compute_target):
    src = project({"echo.py": "import sys\nprint('args:', sys.argv[1:])\n"})
    run = experiment.submit(ScriptRunConfig(str(src), command="python echo.py first", arguments=["two words"],
                                            compute_target=compute_target))
    details = run.wait_for_completion()
    assert details["runType"] == "command"
    assert "args: ['first', 'two words']" in run.get_log()


def test_offline_run_outside_a_job_prints_what_it_logs(run_python, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("RUNYARD_RUN_ID", "RUNYARD_TRACKING_URI")}
    result = run_python("""
        from runyard import Run
        run = Run.get_context()
        print(type(run).__name__, run.id.startswith("OfflineRun_"))
        run.log("accuracy", 0.9)
        run.log_list("scores", [1, 2])
        run.log_row("curve", epoch=1)
        run.tag("t", "v")
        open("x.txt", "w").write("x")
        run.upload_file("x.txt", "x.txt")
        with run.child_run("c") as child:
            child.log("inner", 1)
        print("metrics", run.get_metrics())
        run.complete()
        """, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "_OfflineRun True" in out
    assert "[runyard offline] accuracy: 0.9" in out
    assert "[runyard offline] scores: [1, 2]" in out
    assert "[runyard offline] curve: {'epoch': 1}" in out
    assert "[runyard offline] inner: 1" in out
    assert "metrics {'accuracy': 0.9, 'scores': [1, 2], 'curve': {'epoch': [1]}}" in out


def test_get_context_without_offline_raises(run_python):
    env = {k: v for k, v in os.environ.items() if k not in ("RUNYARD_RUN_ID", "RUNYARD_TRACKING_URI")}
    result = run_python("""
        from runyard import Run, RunyardError
        try:
            Run.get_context(allow_offline=False)
        except RunyardError as e:
            print("raised:", e)
        """, env=env)
    assert result.returncode == 0, result.stderr
    assert "raised: Run.get_context(allow_offline=False) outside a runyard job" in result.stdout


PLOTTING_SCRIPT = """\
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from runyard import Run

run = Run.get_context()
figure = Figure(figsize=(2, 2))
figure.add_subplot().plot([1, 2, 3], [3, 1, 2])
run.log_image("figure", plot=figure)
plt.figure(figsize=(3, 2))
plt.plot([0, 1], [1, 0])
run.log_image("current", plot=plt)  # pyplot: its current figure
"""


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_log_image_of_a_matplotlib_figure_and_of_pyplot(experiment, project, tmp_path):
    import matplotlib  # noqa: F401  (the test extra has it; the job runs with this Python)
    src = project({"plot.py": PLOTTING_SCRIPT})
    run = experiment.submit(ScriptRunConfig(str(src), script="plot.py"))
    assert run.wait_for_completion()["status"] == st.COMPLETED
    assert run.get_metrics() == {"figure": "images/figure.png", "current": "images/current.png"}
    figure = Path(run.download_file("images/figure.png", tmp_path / "figure.png")).read_bytes()
    current = Path(run.download_file("images/current.png", tmp_path / "current.png")).read_bytes()
    dpi = matplotlib.rcParams["savefig.dpi"]
    dpi = matplotlib.rcParams["figure.dpi"] if dpi == "figure" else dpi
    assert png_size(figure) == (round(2 * dpi), round(2 * dpi))
    assert png_size(current) == (round(3 * dpi), round(2 * dpi))


def test_offline_log_image_saves_the_plot_and_says_where(run_python, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("RUNYARD_RUN_ID", "RUNYARD_TRACKING_URI")}
    result = run_python(PLOTTING_SCRIPT + "print('metrics', run.get_metrics())\n", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    saved = dict(re.findall(r"\[runyard offline\] (figure|current): (\S+\.png)", result.stdout))
    assert set(saved) == {"figure", "current"}, result.stdout
    for name, path in saved.items():
        assert Path(path).name == f"{name}.png"
        png_size(Path(path).read_bytes())
    assert f"'current': '{saved['current']}'" in result.stdout


R_SCRIPT = """\
library(runyard)
library(runyardtinypkg)
fit <- lm(dist ~ speed, data = cars)
log_metric_to_run("slope", unname(coef(fit)[["speed"]]))
log_metric_to_run("model", "lm")
log_metric_to_run("answer", tiny_answer())
dir.create("outputs", showWarnings = FALSE)
saveRDS(fit, "outputs/fit.rds")
cat("fitted in R", R.version$major, "\\n")
"""


def test_r_script_with_a_package_from_a_repository(experiment, project, compute_target, r_repository):
    """An R environment's package comes from its repository (a local one, copied into the image
    on Docker); the R script logs through runyard's R package and writes outputs/."""
    from runyard import Environment
    env = Environment("r-tiny", r={"cran_packages": [{"name": "runyardtinypkg"}], "repos": [r_repository]})
    run = experiment.submit(ScriptRunConfig(str(project({"fit.R": R_SCRIPT})), script="fit.R",
                                            compute_target=compute_target, environment=env))
    details = run.wait_for_completion(timeout=900, raise_on_error=False)
    assert details["status"] == st.COMPLETED, details["error"]
    metrics = run.get_metrics()
    assert metrics["slope"] == pytest.approx(3.9324, abs=1e-3)
    assert metrics["model"] == "lm" and metrics["answer"] == 42
    assert "outputs/fit.rds" in run.get_file_names()
    assert "fitted in R 4" in run.get_log()
