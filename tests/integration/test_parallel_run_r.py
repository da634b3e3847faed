"""ParallelRunStep with an entry script in R: real Rscript workers started once, file and
partitioned tabular mini batches, R errors with their calls, a wrong result type, a killed
worker, and scripts refused before anything runs. (The R package's testthat suite runs the
same from R.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from runyard import Dataset, Datastore, OutputFileDatasetConfig, Pipeline
from runyard import status as st
from runyard.errors import ConfigError
from runyard.pipeline.steps import ParallelRunConfig, ParallelRunStep

import pandas as pd

# Each file holds a word: "ok", "raise" (stop() in a helper), "kill-once" (the worker kills
# itself on the first try). init() and run() leave lines in the folder given by --calls.
FILES_SCRIPT = """\
    calls <- NULL
    init <- function() {
      args <- commandArgs(trailingOnly = TRUE)
      calls <<- args[[match("--calls", args) + 1]]
      cat(Sys.getpid(), "\\n", file = file.path(calls, "init.txt"), append = TRUE)
    }
    check <- function(word, name) {
      if (word == "raise") stop("cannot score ", name)
    }
    run <- function(mini_batch) {
      vapply(mini_batch, function(path) {
        name <- basename(path)
        word <- readLines(path)
        seen <- file.path(calls, paste0(name, ".seen"))
        first <- !file.exists(seen)
        file.create(seen)
        if (word == "kill-once" && first) tools::pskill(Sys.getpid(), 9L)
        if (word == "hang-once" && first) Sys.sleep(60)
        check(word, name)
        paste(name, word)
      }, character(1), USE.NAMES = FALSE)
    }
    """


def finish(pipeline_run, name):
    pipeline_run.wait_for_completion(timeout=120, raise_on_error=False)
    (step_run,) = pipeline_run.find_step_run(name)
    return step_run


def appended(step_run, tmp_path, name):
    return Path(step_run.download_file(name, str(tmp_path / f"{step_run.id}.txt"))).read_text()


def test_r_workers_run_file_batches_with_init_once_errors_a_timeout_and_a_killed_worker(workspace, experiment, project,
                                                                              tmp_path):
    data = project({"a.txt": "ok", "b.txt": "raise", "c.txt": "kill-once", "d.txt": "hang-once", "e.txt": "ok"},
                   name="data")
    calls = tmp_path / "calls"
    calls.mkdir()
    src = project({"score.R": FILES_SCRIPT}, name="src")
    config = ParallelRunConfig(environment=None, entry_script="score.R", error_threshold=-1,
                               output_action="append_row", compute_target="local", node_count=1,
                               source_directory=str(src), process_count_per_node=2, mini_batch_size=1,
                               run_max_try=2, run_invocation_timeout=4)
    step = ParallelRunStep("score", config, inputs=[Dataset.File.from_files(str(data)).as_named_input("files")],
                           output=OutputFileDatasetConfig("scores"), arguments=["--calls", str(calls)])
    step_run = finish(experiment.submit(Pipeline(workspace, [step])), "score")
    assert step_run.get_status() == st.COMPLETED, step_run.get_details().get("error")
    rows = {row["batch_id"]: row for row in step_run.get_partition_results()}
    assert [rows[f"files:{i}"]["status"] for i in range(5)] == ["Succeeded", "Failed", "Succeeded", "Succeeded",
                                                                 "Succeeded"]
    failed = rows["files:1"]
    assert failed["tries"] == 2 and failed["error"] == "Error in check(word, name) : cannot score b.txt"
    assert "R traceback (most recent call last):" in failed["traceback"]
    assert "check(word, name) at score.R#" in failed["traceback"] and "run(mini_batch)" in failed["traceback"]
    assert rows["files:2"]["tries"] == rows["files:3"]["tries"] == 2  # killed / hung once, then done
    assert appended(step_run, tmp_path, "outputs/scores/parallel_run_step.txt") == \
        "a.txt ok\nc.txt kill-once\nd.txt hang-once\ne.txt ok\n"
    inits = (calls / "init.txt").read_text().split()
    assert len(inits) == len(set(inits)) >= 3  # two workers, and those that replaced the killed ones
    log = step_run.get_log()
    assert "WorkerDied" in log and "killed by signal 9" in log
    assert "TimeoutError: run() did not return within run_invocation_timeout=4s" in log


PARTITION_SCRIPT = """\
    init <- function() NULL
    run <- function(mini_batch, mini_batch_context) {
      store <- mini_batch_context$partition_key_value$store
      if (store == "3") stop("no model for store 3")
      stopifnot(is.data.frame(mini_batch), is.integer(mini_batch$week), is.double(mini_batch$sales),
                is.character(mini_batch$note))
      model <- lm(sales ~ week, data = mini_batch)
      data.frame(store = store, rows = nrow(mini_batch), slope = round(unname(coef(model)[["week"]]), 3),
                 note = mini_batch$note[[1]])
    }
    """


def test_r_workers_get_a_data_frame_per_partition_and_return_rows(workspace, experiment, project, tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    frame = pd.DataFrame({"store": [1, 1, 1, 2, 2, 3], "week": [1, 2, 3, 1, 2, 1],
                          "sales": [10.0, 12.0, 14.0, 5.0, 4.0, 1.0], "note": ["a b", "a b", "a b", "x", "x", "y"]})
    frame.to_csv(folder / "sales.csv", index=False)
    store = Datastore.register_local(workspace, "raw", str(folder))
    sales = Dataset.Tabular.from_delimited_files((store, "sales.csv")).partition_by(["store"], (store, "by-store"))
    src = project({"train.R": PARTITION_SCRIPT})
    config = ParallelRunConfig(environment=None, entry_script="train.R", error_threshold=-1,
                               output_action="append_row", compute_target="local", node_count=1,
                               source_directory=str(src), process_count_per_node=1, partition_keys=["store"],
                               run_max_try=1)
    step = ParallelRunStep("train", config, inputs=[sales.as_named_input("sales")])
    step_run = finish(experiment.submit(Pipeline(workspace, [step])), "train")
    assert step_run.get_status() == st.COMPLETED, step_run.get_details().get("error")
    rows = step_run.get_partition_results()
    assert [(r["partition"], r["status"], r["items"], r["results"]) for r in rows] == [
        ({"store": "1"}, "Succeeded", 3, 1), ({"store": "2"}, "Succeeded", 2, 1), ({"store": "3"}, "Failed", 1, None)]
    assert rows[2]["error"] == "Error in run(mini_batch, mini_batch_context) : no model for store 3"
    assert appended(step_run, tmp_path, "outputs/parallel_run_step.txt") == '1 3 2 "a b"\n2 2 -1 x\n'


# A model per store through the runyard R package's entry_script()$register_model: store "2"
# fails after registering on its first try (the retry registers once), "3" registers one name
# twice and "4" a file that is not there (each refused: a failed try that registers nothing).
# Every store of a worker writes the same model.txt (in the worker's own temporary folder),
# which its next mini batch overwrites.
MODELS_SCRIPT = """\
    calls <- NULL
    init <- function() {
      args <- commandArgs(trailingOnly = TRUE)
      calls <<- args[[match("--calls", args) + 1]]
    }
    run <- function(mini_batch, mini_batch_context) {
      store <- mini_batch_context$partition_key_value$store
      path <- file.path(tempdir(), "model.txt")
      writeLines(paste("store", store, "total", sum(mini_batch$sales)), path)
      partition <- mini_batch_context$partition_key_value
      register <- runyard::entry_script()$register_model
      register("sales", if (store == "4") "missing.txt" else path, tags = list(rows = nrow(mini_batch)),
               partition = partition)
      if (store == "3") register("sales", path, partition = partition)
      seen <- file.path(calls, store)
      first <- !file.exists(seen)
      file.create(seen)
      if (store == "2" && first) stop("store 2 fails on its first try")
      data.frame(store = store)
    }
    """


def test_r_workers_register_a_model_per_partition_once_for_what_succeeded(workspace, experiment, project, tmp_path):
    from runyard import Model
    from runyard.errors import NotFoundError
    from runyard.model import partition_model_name
    from runyard.pipeline._parallel.models import MODELS_FOLDER
    folder = tmp_path / "raw"
    folder.mkdir()
    pd.DataFrame({"store": [1, 2, 1, 3, 4, 2], "sales": [10, 20, 30, 40, 50, 60]}).to_csv(folder / "s.csv", index=False)
    store = Datastore.register_local(workspace, "raw", str(folder))
    sales = Dataset.Tabular.from_delimited_files((store, "s.csv")).partition_by(["store"], (store, "by-store"))
    calls = tmp_path / "calls"
    calls.mkdir()
    config = ParallelRunConfig(environment=None, entry_script="train.R", error_threshold=-1,
                               output_action="append_row", compute_target="local", node_count=1,
                               source_directory=str(project({"train.R": MODELS_SCRIPT})), process_count_per_node=2,
                               partition_keys=["store"], run_max_try=2)
    step = ParallelRunStep("train", config, inputs=[sales.as_named_input("sales")], arguments=["--calls", str(calls)])
    step_run = finish(experiment.submit(Pipeline(workspace, [step])), "train")
    assert step_run.get_status() == st.COMPLETED, step_run.get_details().get("error")
    rows = {r["partition"]["store"]: r for r in step_run.get_partition_results()}
    assert {s: (r["status"], r["tries"]) for s, r in rows.items()} == {
        "1": ("Succeeded", 1), "2": ("Succeeded", 2), "3": ("Failed", 2), "4": ("Failed", 2)}
    assert rows["3"]["error"].startswith("ConfigError: register_model(model_name = 'sales'): model 'sales-3-")
    assert "is already registered by this mini batch" in rows["3"]["error"]
    assert "model_path \"missing.txt\": not a file or folder" in rows["4"]["error"]
    for value, total in (("1", 40), ("2", 80)):
        name = partition_model_name("sales", {"store": value})
        assert rows[value]["models"] == [f"{name}:1"]
        model = Model.get_by_partition(workspace, "sales", {"store": value})
        assert (model.name, model.version, model.run_id) == (name, 1, step_run.id)
        assert model.tags == {"store": value, "rows": "2"}
        assert Path(model.download(tmp_path / "dl" / value)).read_text() == f"store {value} total {total}\n"
    assert [m.version for m in Model.list(workspace, name=partition_model_name("sales", {"store": "2"}))] == [1]
    for value in ("3", "4"):
        assert rows[value]["models"] == []
        with pytest.raises(NotFoundError):
            Model.get_by_partition(workspace, "sales", {"store": value})
    index = {r["partition"]["store"]: i for i, r in enumerate(step_run.get_partition_results())}
    files = sorted(n for n in step_run.get_file_names() if n.startswith(MODELS_FOLDER))
    assert files == sorted(f"{MODELS_FOLDER}/{index[s]}/{partition_model_name('sales', {'store': s})}/model.txt"
                           for s in "12")
    assert "2 model(s) registered in bulk" in step_run.get_log()


COLUMNS_SCRIPT = """\
    init <- function() NULL
    run <- function(mini_batch) {
      describe <- function(x) {
        shown <- if (inherits(x, "POSIXct")) format(x[!is.na(x)]) else as.character(x[!is.na(x)])
        paste0(class(x)[[1]], ":", sum(is.na(x)), ":", paste(shown, collapse = "|"))
      }
      vapply(names(mini_batch), function(name) paste(name, describe(mini_batch[[name]])), character(1),
             USE.NAMES = FALSE)
    }
    """


def test_r_workers_get_each_column_type_with_missing_values(workspace, experiment, project, tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    pd.DataFrame({
        "i": pd.array([1, None, 3], dtype="Int64"), "f": [0.5, float("nan"), float("inf")],
        "b": [True, False, True], "s": ["a b", None, "c"],
        "t": pd.to_datetime(["2024-01-02 03:04:05", None, "2024-12-31 00:00:00"]),
        "c": pd.Categorical(["x", "y", None], categories=["y", "x"]),
        "n": [7, -2, 2 ** 31 - 1], "w": [1, 2 ** 31, -3],  # R's integers, and past them (doubles)
    }).to_parquet(folder / "table.parquet", index=False)
    store = Datastore.register_local(workspace, "raw", str(folder))
    table = Dataset.Tabular.from_parquet_files((store, "table.parquet"))
    src = project({"columns.R": COLUMNS_SCRIPT})
    config = ParallelRunConfig(environment=None, entry_script="columns.R", error_threshold=-1,
                               output_action="append_row", compute_target="local", node_count=1,
                               source_directory=str(src), process_count_per_node=1, mini_batch_size="1MB")
    step_run = finish(experiment.submit(Pipeline(workspace, [
        ParallelRunStep("columns", config, inputs=[table.as_named_input("table")])])), "columns")
    assert step_run.get_status() == st.COMPLETED, step_run.get_details().get("error")
    assert appended(step_run, tmp_path, "outputs/parallel_run_step.txt").splitlines() == [
        "i integer:1:1|3", "f numeric:1:0.5|Inf", "b logical:0:TRUE|FALSE|TRUE", "s character:1:a b|c",
        "t POSIXct:1:2024-01-02 03:04:05|2024-12-31 00:00:00", "c factor:1:x|y",
        "n integer:0:7|-2|2147483647", "w numeric:0:1|2147483648|-3"]


def test_r_run_returning_the_wrong_type_and_init_failing(workspace, experiment, project):
    data = project({"a.txt": "x"}, name="data")
    src = project({"score.R": "init <- function() NULL\nrun <- function(mini_batch) lm(1 ~ 1)\n",
                   "broken.R": "init <- function() stop('no model file')\nrun <- function(mini_batch) mini_batch\n"})
    config = ParallelRunConfig(environment=None, entry_script="score.R", error_threshold=-1,
                               output_action="append_row", compute_target="local", node_count=1,
                               source_directory=str(src), process_count_per_node=1, run_max_try=1)
    step_run = finish(experiment.submit(Pipeline(workspace, [
        ParallelRunStep("score", config, inputs=[Dataset.File.from_files(str(data))])])), "score")
    (row,) = step_run.get_partition_results()
    assert row["status"] == "Failed"
    assert row["error"].startswith("Error: run() returned lm; it must return a data.frame")
    config = ParallelRunConfig(environment=None, entry_script="broken.R", error_threshold=-1,
                               output_action="append_row", compute_target="local", node_count=1,
                               source_directory=str(src), process_count_per_node=1)
    step_run = finish(experiment.submit(Pipeline(workspace, [
        ParallelRunStep("broken", config, inputs=[Dataset.File.from_files(str(data))])])), "broken")
    assert step_run.get_status() == st.FAILED
    assert "init() of the entry script failed" in step_run.get_details()["error"]["message"]
    assert "Error in entry$init() : no model file" in step_run.get_log()


@pytest.mark.parametrize("script, message", [
    ("run <- function(mini_batch) mini_batch\n", r"defines no init\(\) at its top level"),
    ("init <- function() NULL\n", r"defines no run\(\) at its top level"),
    ("init <- function() NULL\nrun <- function() 1\n", r"run must take mini_batch, or mini_batch and"),
    ("init <- function( NULL\n", r"is not valid R: "),
])
def test_bad_r_entry_scripts_are_refused_when_the_config_is_made(project, script, message):
    src = project({"score.R": script})
    with pytest.raises(ConfigError, match=message):
        ParallelRunConfig(environment=None, entry_script="score.R", error_threshold=-1, output_action="append_row",
                          compute_target="local", node_count=1, source_directory=str(src))


def test_an_r_entry_script_needs_the_environments_rscript(project):
    from runyard import Environment
    src = project({"score.R": "init <- function() NULL\nrun <- function(mini_batch) mini_batch\n"})
    missing = Environment(name="r", r={"rscript_path": "/nonexistent/Rscript"})
    with pytest.raises(ConfigError, match=r"'/nonexistent/Rscript' was not found: install R"):
        ParallelRunConfig(environment=missing, entry_script="score.R", error_threshold=-1, output_action="append_row",
                          compute_target="local", node_count=1, source_directory=str(src))
    found = Environment(name="r", r={"rscript_path": shutil.which("Rscript")})
    config = ParallelRunConfig(environment=found, entry_script="score.R", error_threshold=-1,
                               output_action="append_row", compute_target="local", node_count=1,
                               source_directory=str(src))
    assert config._settings()["rscript_path"] == shutil.which("Rscript")  # the workers' R


R_JOB = """\
type: parallel
experiment_name: r-scoring
inputs:
  files: {type: uri_folder, path: ./data}
outputs:
  scores: {}
input_data: ${{inputs.files}}
mini_batch_size: "1"
max_concurrency_per_instance: 2
task:
  type: run_function
  code: ./src
  entry_script: score.R
  program_arguments: --suffix scored
  append_row_to: ${{outputs.scores}}
"""
R_SCORE = """\
    suffix <- NULL
    init <- function() {
      args <- commandArgs(trailingOnly = TRUE)
      suffix <<- args[[match("--suffix", args) + 1]]
    }
    run <- function(mini_batch) paste(basename(mini_batch), readLines(mini_batch[[1]]), suffix)
    """


def test_a_type_parallel_job_file_runs_an_r_entry_script(workspace, experiment, project, tmp_path):
    from runyard import load_job_file
    folder = project({"job.yml": R_JOB, "src/score.R": R_SCORE, "data/a.txt": "x", "data/b.txt": "y"})
    job = load_job_file(folder / "job.yml", workspace)
    run = experiment.submit(job.config)
    run.wait_for_completion(timeout=120, raise_on_error=False)
    assert run.get_status() == st.COMPLETED, run.get_details().get("error")
    assert appended(run, tmp_path, "outputs/scores/parallel_run_step.txt") == "a.txt x scored\nb.txt y scored\n"
    assert [row["status"] for row in run.get_partition_results()] == ["Succeeded", "Succeeded"]
