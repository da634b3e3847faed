"""Datastores and datasets: versions keyed by content, tables read with pandas, datasets as
inputs of script runs, estimators and pipeline steps (reuse by content), outputs registered
on completion, lineage, fsspec datastores and bad input."""

from __future__ import annotations

import uuid
from pathlib import Path

import fsspec  # noqa: F401  (the test extra installs these: a missing one is a failure, not a skip)
import pandas as pd
import pyarrow  # noqa: F401
import pytest

from runyard import (Dataset, Datastore, Estimator, Experiment, OutputFileDatasetConfig, Pipeline,
                     PythonScriptStep, RunConfiguration, ScriptRunConfig)
from runyard import status as st
from runyard.errors import ConfigError, MissingDependencyError, NotFoundError


@pytest.fixture
def raw(tmp_path, project):
    """A local datastore "raw" holding two CSV files of one table."""
    def make(ws):
        folder = project({"a.csv": "x,y\n1,2\n3,4\n", "more/b.csv": "x,y\n5,6\n"}, name="raw")
        return Datastore.register_local(ws, "raw", folder)
    return make


# -- registering and reading ------------------------------------------------------------------
def test_versions_are_keyed_by_content(any_store_workspace, raw):
    ws = any_store_workspace
    store = raw(ws)
    table = Dataset.Tabular.from_delimited_files([(store, "**/*.csv")])
    first = table.register(ws, "table", description="two files", tags={"team": "data"})
    assert (first.name, first.version, first.description, first.tags) == ("table", 1, "two files", {"team": "data"})
    assert table.register(ws, "table").id == first.id  # the same content: that version
    Path(store.path, "more", "b.csv").write_text("x,y\n5,7\n")
    changed = Dataset.Tabular.from_delimited_files([(store, "**/*.csv")])
    with pytest.raises(ConfigError, match="already registered.*create_new_version=True"):
        changed.register(ws, "table")
    second = changed.register(ws, "table", create_new_version=True)
    assert second.version == 2 and second.content_hash != first.content_hash
    assert Dataset.get_by_name(ws, "table").version == 2
    assert Dataset.get_by_name(ws, "table", version=1).id == first.id
    assert Dataset.get_by_name(ws, "table", version="2").to_pandas_dataframe()["y"].tolist() == [2, 4, 7]
    assert Dataset.get_by_id(ws, first.id).version == 1
    assert [d.version for d in second.get_versions()] == [1, 2]
    assert set(ws.datasets) == {"table"} and [d.name for d in Dataset.list(ws)] == ["table"]
    # the same files as a file dataset are another version key, the same content hash
    files = Dataset.File.from_files((store, "/")).register(ws, "files")
    assert files.content_hash == second.content_hash and sorted(files.to_path()) == ["/a.csv", "/more/b.csv"]
    assert "raw" in ws.datastores and Datastore.get(ws, "raw") == store
    assert Datastore(ws, "raw").path == store.path
    # registering the datastore again at the same folder changes nothing; elsewhere needs overwrite
    assert Datastore.register_local(ws, "raw", store.path) == store
    with pytest.raises(ConfigError, match="already registered.*overwrite=True"):
        Datastore.register_local(ws, "raw", Path(store.path).parent)


def test_tables_from_csv_and_parquet(workspace, tmp_path, project):
    folder = project({"semi.txt": "a;b\n1;x\n2;y\n", "plain.csv": "1,2\n3,4\n"}, name="t")
    semi = Dataset.Tabular.from_delimited_files(str(folder / "semi.txt"), separator=";", include_path=True)
    frame = semi.to_pandas_dataframe()
    assert frame.to_dict("list") == {"Path": ["/semi.txt", "/semi.txt"], "a": [1, 2], "b": ["x", "y"]}
    plain = Dataset.Tabular.from_delimited_files(folder / "plain.csv", header=False).to_pandas_dataframe()
    assert list(plain.columns) == ["Column1", "Column2"] and plain["Column2"].tolist() == [2, 4]
    pd.DataFrame({"k": [1, 2, 3], "v": [0.5, 1.5, 2.5]}).to_parquet(folder / "p1.parquet")
    pd.DataFrame({"k": [4], "v": [3.5]}).to_parquet(folder / "p2.parquet")
    parquet = Dataset.Tabular.from_parquet_files(str(folder / "*.parquet")).register(workspace, "features")
    assert parquet.to_pandas_dataframe()["k"].tolist() == [1, 2, 3, 4]
    # a DataFrame registered directly, on the workspace's default datastore
    frame = pd.DataFrame({"n": [7, 8]})
    made = Dataset.Tabular.register_pandas_dataframe(frame, workspace.get_default_datastore(), "frame")
    assert made.version == 1 and made.to_pandas_dataframe()["n"].tolist() == [7, 8]
    # unchecked when made (validate=False): reading names the file that does not parse
    (folder / "broken.parquet").write_bytes(b"PAR1 not really PAR1")
    unchecked = Dataset.Tabular.from_parquet_files(str(folder / "broken.parquet"), validate=False)
    with pytest.raises(ConfigError, match="tabular file 'broken.parquet'.*cannot be read as Parquet"):
        unchecked.to_pandas_dataframe()
    assert workspace.get_default_datastore().name == "workspaceblobstore"
    assert Path(workspace.get_default_datastore().path).is_relative_to(workspace.path)


def test_download_mount_and_a_version_that_changed(workspace, raw, tmp_path):
    store = raw(workspace)
    files = Dataset.File.from_files([(store, "")]).register(workspace, "files")
    written = files.download(tmp_path / "copy")
    assert sorted(Path(p).relative_to(tmp_path / "copy").as_posix() for p in written) == ["a.csv", "more/b.csv"]
    with pytest.raises(ConfigError, match="already in"):
        files.download(tmp_path / "copy")
    files.download(tmp_path / "copy", overwrite=True)
    with files.mount() as mounted:
        linked = Path(mounted.mount_point) / "more" / "b.csv"
        assert linked.is_symlink() and linked.read_text() == "x,y\n5,6\n"
    assert not Path(mounted.mount_point or "/nonexistent").exists()
    # a version's files do not change silently
    Path(store.path, "a.csv").write_text("x,y\n1,2\n3,5\n")
    with pytest.raises(ConfigError, match="file 'a.csv'.*changed since the version was registered"):
        files.download(tmp_path / "again")
    Dataset.Tabular.from_delimited_files([(store, "a.csv")]).register(workspace, "a")
    Path(store.path, "a.csv").write_text("x,y\n9,9\n")
    with pytest.raises(ConfigError, match="dataset 'a' version 1: file 'a.csv'.*changed since the version was"):
        Dataset.get_by_name(workspace, "a").to_pandas_dataframe()
    unregistered = Dataset.Tabular.from_delimited_files([(store, "*.csv")])
    assert unregistered.to_pandas_dataframe()["x"].tolist() == [9]  # what is there now


READ = """\
    import os, sys
    from runyard import Run
    run = Run.get_context()
    path = sys.argv[1]
    found = sorted(os.path.relpath(os.path.join(d, f), path) for d, _, fs in os.walk(path) for f in fs) \\
        if os.path.isdir(path) else [os.path.basename(path)]
    print("FOUND", found, "LINKED", any(os.path.islink(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs))
    print("VARIABLE", os.environ.get("AZUREML_DATAREFERENCE_table"))
    frame = run.input_datasets["table"].to_pandas_dataframe()
    run.log("rows", len(frame))
    run.log("total", float(frame["x"].sum()))
    """


@pytest.mark.parametrize("mode", ["download", "mount"])
def test_a_script_run_reads_a_dataset(workspace, experiment, project, raw, mode):
    table = Dataset.Tabular.from_delimited_files([(raw(workspace), "**/*.csv")]).register(workspace, "table")
    config = getattr(table.as_named_input("table"), f"as_{mode}")()
    run = experiment.submit(ScriptRunConfig(project({"read.py": READ}), script="read.py", arguments=[config]))
    run.wait_for_completion(timeout=120)
    assert run.get_metrics() == {"rows": 3, "total": 9.0}
    log = run.get_log()
    assert "FOUND ['a.csv', 'more/b.csv']" in log and f"LINKED {mode == 'mount'}" in log
    assert "VARIABLE inputs/table" in log
    assert run.get_details()["runDefinition"]["arguments"] == ["inputs/table"]
    assert {name: d.id for name, d in run.input_datasets.items()} == {"table": table.id}
    assert [r.id for r in table.consuming_runs] == [run.id]
    assert workspace._store.list_lineage(run_id=run.id) == [
        {**workspace._store.list_lineage(run_id=run.id)[0], "role": "input", "kind": "dataset", "name": "table",
         "version": 1, "label": "table"}]


def test_one_file_arrives_as_its_path_and_estimators_take_inputs(workspace, experiment, project, tmp_path):
    project({"only.csv": "x\n4\n5\n"}, name="one")
    single = Dataset.Tabular.from_delimited_files(str(tmp_path / "one" / "only.csv"))
    src = project({"read.py": READ})
    config = single.as_named_input("table").as_download()
    run = experiment.submit(ScriptRunConfig(src, script="read.py", arguments=[config]))
    run.wait_for_completion(timeout=120)
    assert "FOUND ['only.csv']" in run.get_log() and run.get_metrics()["total"] == 9.0
    assert run.get_details()["runDefinition"]["arguments"] == ["inputs/table/only.csv"]
    assert workspace._store.list_lineage(run_id=run.id) == []  # unregistered: no version to record
    assert list(run.input_datasets) == ["table"] and run.input_datasets["table"].name is None
    # an estimator: a dataset in script_params (its path), another in inputs (direct)
    est_src = project({"est.py": """\
        import argparse, os
        from runyard import Run
        a = argparse.ArgumentParser(); a.add_argument("--data"); path = a.parse_args().data
        run = Run.get_context()
        run.log("file", os.path.basename(path))
        run.log("inputs", ",".join(sorted(run.input_datasets)))
        run.log("rows", len(run.input_datasets["extra"].to_pandas_dataframe()))
        """})
    est = Estimator(str(est_src), entry_script="est.py", script_params={"--data": config},
                    inputs=[single.as_named_input("extra")])
    run = experiment.submit(est)
    run.wait_for_completion(timeout=120)
    assert run.get_metrics() == {"file": "only.csv", "inputs": "extra,table", "rows": 2}


def test_fsspec_datastores(workspace, experiment, project, tmp_path):
    memory = Datastore.register_fsspec(workspace, "mem", f"memory://runyard-tests/{uuid.uuid4().hex}")
    project({"t/a.csv": "x\n1\n", "t/b.csv": "x\n2\n"}, name="up")
    memory.upload(tmp_path / "up", target_path="v1")
    table = Dataset.Tabular.from_delimited_files([(memory, "v1/t/*.csv")]).register(workspace, "memtable")
    assert table.to_pandas_dataframe()["x"].tolist() == [1, 2]
    assert sorted(Path(p).name for p in table.download(tmp_path / "down")) == ["a.csv", "b.csv"]
    assert memory.download(tmp_path / "store", prefix="v1/t") == 2 and (tmp_path / "store/v1/t/b.csv").is_file()
    with pytest.raises(ConfigError, match="memory:// filesystem lives in this Python process only"):
        experiment.submit(ScriptRunConfig(project({"read.py": READ}), script="read.py",
                                          arguments=[table.as_named_input("table").as_download()]))
    # a file:// fsspec datastore is read by the job itself, through runyard's cache
    folder = project({"a.csv": "x\n3\n4\n"}, name="served")
    files = Datastore.register_fsspec(workspace, "files", folder.as_uri())
    table = Dataset.Tabular.from_delimited_files((files, "a.csv")).register(workspace, "filetable")
    run = experiment.submit(ScriptRunConfig(project({"read.py": READ}), script="read.py",
                                            arguments=[table.as_named_input("table").as_mount()]))
    run.wait_for_completion(timeout=120)
    assert run.get_metrics() == {"rows": 2, "total": 7.0}


PREP = """\
    import argparse, os
    p = argparse.ArgumentParser(); p.add_argument("--data"); p.add_argument("--out")
    a = p.parse_args()
    rows = []
    for d, _, fs in os.walk(a.data):
        for f in sorted(fs):
            rows += [int(x) for x in open(os.path.join(d, f)).read().split()[1:]]
    with open(os.path.join(a.out, "rows.csv"), "w") as fh:
        fh.write("value\\n" + "\\n".join(str(x * 10) for x in sorted(rows)) + "\\n")
    """


def prep_pipeline(ws, project, dataset, register_as=None):
    out = OutputFileDatasetConfig("prepared")
    if register_as:
        out = out.read_delimited_files().register_on_complete(register_as, description="prepared rows")
    step = PythonScriptStep("prep.py", name="prep", source_directory=project({"prep.py": PREP}, name="src"),
                            arguments=["--data", dataset.as_named_input("raw").as_download(), "--out", out])
    return Pipeline(ws, [step])


def step_of(run):
    (step,) = run.find_step_run("prep")
    return step


def test_a_pipeline_step_reads_a_dataset_and_reuse_follows_its_content(workspace, experiment, project, tmp_path):
    folder = project({"d.csv": "v\n1\n2\n"}, name="data")
    Dataset.File.from_files(str(folder)).register(workspace, "raw")
    first = experiment.submit(prep_pipeline(workspace, project, Dataset.get_by_name(workspace, "raw")))
    first.wait_for_completion(timeout=120)
    assert "outputs/prepared/rows.csv" in step_of(first).get_file_names()
    assert [r.id for r in Dataset.get_by_name(workspace, "raw").consuming_runs] == [step_of(first).id]
    again = experiment.submit(prep_pipeline(workspace, project, Dataset.get_by_name(workspace, "raw")))
    again.wait_for_completion(timeout=120)
    assert again.get_step_reuse() == {"prep": step_of(first).id}
    # identical content under another name (and path): reused
    copy = project({"d.csv": "v\n1\n2\n"}, name="copy")
    renamed = Dataset.File.from_files(str(copy)).register(workspace, "raw_copy")
    reused = experiment.submit(prep_pipeline(workspace, project, renamed))
    reused.wait_for_completion(timeout=120)
    assert reused.get_step_reuse() == {"prep": step_of(first).id}
    # other bytes at the same path: the old version refuses to be read, a new one reruns the step
    (folder / "d.csv").write_text("v\n1\n3\n")
    with pytest.raises(ConfigError, match="changed since the version was registered"):
        experiment.submit(prep_pipeline(workspace, project, Dataset.get_by_name(workspace, "raw")))
    Dataset.File.from_files(str(folder)).register(workspace, "raw", create_new_version=True)
    changed = experiment.submit(prep_pipeline(workspace, project, Dataset.get_by_name(workspace, "raw")))
    changed.wait_for_completion(timeout=120)
    assert changed.get_step_reuse() == {"prep": None}
    assert step_of(changed).input_datasets["raw"].version == 2
    # an unregistered dataset counts by content too
    (folder / "d.csv").write_text("v\n5\n")
    fresh = experiment.submit(prep_pipeline(workspace, project, Dataset.File.from_files(str(folder))))
    fresh.wait_for_completion(timeout=120)
    assert fresh.get_step_reuse() == {"prep": None}


def test_an_unregistered_dataset_is_read_when_its_step_starts(workspace, experiment, project, tmp_path):
    folder = project({"d.csv": "v\n1\n"}, name="data")
    src = project({"prep.py": PREP, "nap.py": "import sys, time; time.sleep(3); open(sys.argv[1] + '/g', 'w')"})
    gate = OutputFileDatasetConfig("gate")
    steps = [PythonScriptStep("nap.py", name="nap", arguments=[gate], source_directory=src),
             PythonScriptStep("prep.py", name="prep", inputs=[gate], source_directory=src, arguments=[
                 "--data", Dataset.File.from_files(str(folder)).as_named_input("raw").as_download(),
                 "--out", OutputFileDatasetConfig("prepared")])]
    run = experiment.submit(Pipeline(workspace, steps))
    (folder / "d.csv").write_text("v\n7\n")  # while the first step naps
    run.wait_for_completion(timeout=120)
    prepared = workspace._artifacts.path(step_of(run).id, "outputs/prepared/rows.csv")
    assert prepared.read_text() == "value\n70\n"


def test_register_on_complete_makes_a_version_produced_by_the_step(workspace, experiment, project, tmp_path):
    folder = project({"d.csv": "v\n2\n1\n"}, name="data")
    raw = Dataset.File.from_files(str(folder)).register(workspace, "raw")
    run = experiment.submit(prep_pipeline(workspace, project, raw, register_as="prepared"))
    run.wait_for_completion(timeout=120)
    prepared = Dataset.get_by_name(workspace, "prepared")
    assert (prepared.version, prepared.description) == (1, "prepared rows")
    assert prepared.producing_run.id == step_of(run).id
    assert prepared.to_pandas_dataframe()["value"].tolist() == [10, 20]
    assert {k: d.id for k, d in step_of(run).output_datasets.items()} == {"prepared": prepared.id}
    roles = {(r["role"], r["name"]) for r in workspace._store.list_lineage(run_id=step_of(run).id)}
    assert roles == {("input", "raw"), ("output", "prepared")}
    # run again: the step is reused and its output is the same version, still produced by the first run
    again = experiment.submit(prep_pipeline(workspace, project, raw, register_as="prepared"))
    again.wait_for_completion(timeout=120)
    assert again.get_step_reuse() == {"prep": step_of(run).id}
    assert Dataset.get_by_name(workspace, "prepared").version == 1
    # a step whose output to register holds no files fails, saying so
    empty = PythonScriptStep("noop.py", name="noop", source_directory=project({"noop.py": "pass"}),
                             outputs=[OutputFileDatasetConfig("nothing").register_on_complete("nothing")])
    failed = experiment.submit(Pipeline(workspace, [empty]))
    failed.wait_for_completion(timeout=120, raise_on_error=False)
    assert failed.get_status() == st.FAILED
    assert "could not be registered as dataset 'nothing'" in failed.get_details()["error"]["message"]


def test_bad_input_is_refused_before_any_run_is_recorded(workspace, experiment, project, raw, tmp_path):
    store = raw(workspace)
    project({"ragged.csv": "a,b\n1,2\n3\n", "other.csv": "c,d\n1,2\n", "fake.parquet": "no",
                             "latin.csv": b"a\n\xe9\n"}, name="bad")
    src = project({"s.py": "pass"})
    table = Dataset.Tabular.from_delimited_files((store, "a.csv")).register(workspace, "t")
    out = OutputFileDatasetConfig("o")
    cases = [
        (lambda: Dataset.File.from_files(str(tmp_path / "nothing" / "*.csv")), ConfigError, "matches no files"),
        (lambda: Dataset.File.from_files([(store, "missing/")]), ConfigError,
         "'missing/' on datastore 'raw' matches no files"),
        (lambda: Datastore.get(workspace, "nope"), NotFoundError, "'nope' is not registered.*registered: raw"),
        (lambda: Datastore.register_local(workspace, "x", tmp_path / "absent"), ConfigError, "not an existing folder"),
        (lambda: Datastore.register_fsspec(workspace, "x", "nosuchproto://a"), ConfigError, "knows no filesystem"),
        (lambda: Datastore.register_fsspec(workspace, "x", "s3://bucket/a"), MissingDependencyError,
         "pip install s3fs"),
        (lambda: Dataset.get_by_name(workspace, "t", version="two"), ConfigError, "'latest' or a whole number"),
        (lambda: Dataset.get_by_name(workspace, "t", version=9), NotFoundError, "has no version 9.*versions: 1"),
        (lambda: Dataset.get_by_name(workspace, "nope"), NotFoundError, "registered: t"),
        (lambda: Dataset.Tabular.from_delimited_files(str(tmp_path / "bad" / "ragged.csv")), ConfigError,
         "ragged.csv.*line 3: 1 fields where the header has 2"),
        (lambda: Dataset.Tabular.from_delimited_files([str(tmp_path / "bad" / "other.csv"), (store, "a.csv")]),
         ConfigError, "other.csv.*its columns .* differ from those of .a.csv."),
        (lambda: Dataset.Tabular.from_parquet_files(str(tmp_path / "bad" / "fake.parquet")), ConfigError,
         "fake.parquet.*is not a Parquet file"),
        (lambda: Dataset.Tabular.from_delimited_files(str(tmp_path / "bad" / "latin.csv")), ConfigError,
         "latin.csv.*is not utf8 text"),
        (lambda: table.as_named_input("bad name"), ConfigError, "dataset input name 'bad name'"),
        (lambda: table.as_named_input("x").as_mount("/etc"), ConfigError, "inside the job's folder"),
        (lambda: Estimator(str(src), entry_script="s.py", inputs=["data/"]), ConfigError,
         "inputs\\[0\\] must be a dataset input"),
        (lambda: experiment.submit(ScriptRunConfig(src, script="s.py", arguments=[
            table.as_named_input("x").as_download(),
            Dataset.File.from_files((store, "a.csv")).as_named_input("x").as_download()])),
         ConfigError, "two dataset inputs are named 'x'"),
        (lambda: experiment.submit(Pipeline(workspace, [
            PythonScriptStep("s.py", name="s", source_directory=src, arguments=[out]),
            PythonScriptStep("s.py", name="r", source_directory=src,
                             inputs=[out.as_input("t"), table.as_named_input("t")])])),
         ConfigError, "step 'r': dataset input 't' has the name of an input from another step"),
    ]
    for attempt, error, message in cases:
        with pytest.raises(error, match=message):
            attempt()
    # the files of a registered version changed before submission: refused at submission
    Path(store.path, "a.csv").write_text("x,y\n0,0\n")
    with pytest.raises(ConfigError, match="dataset input 'x'.*changed since the version was registered"):
        experiment.submit(ScriptRunConfig(src, script="s.py", arguments=[table.as_named_input("x").as_download()]))
    assert workspace._store.list_runs() == []


def test_files_changed_after_submission_stop_the_job_saying_so(workspace, experiment, project, raw):
    store = raw(workspace)
    table = Dataset.Tabular.from_delimited_files((store, "a.csv")).register(workspace, "t")
    from runyard.data.consumption import job_input
    entry = job_input(table.as_named_input("t").as_download(), workspace)
    Path(store.path, "a.csv").write_text("x,y\n0,0\n")
    from runyard import resume
    from runyard.errors import ComputeError
    with pytest.raises(ComputeError, match="'t' \\(dataset 't' version 1\\).*changed since the version was registered"):
        resume.put_inputs(Path(store.path).parent / "job", [entry], [], workspace)


@pytest.mark.postgres
def test_a_served_workspace_has_no_default_datastore_until_one_is_registered(workspace_server, tmp_path, project):
    from conftest import SERVER_TOKEN
    from runyard import Workspace
    ws = Workspace.get(workspace_server, token=SERVER_TOKEN)
    name = f"raw{uuid.uuid4().hex[:6]}"
    with pytest.raises(ConfigError, match="served over HTTP and has no folder for a default datastore"):
        ws.get_default_datastore()
    store = Datastore.register_local(ws, name, project({"a.csv": "x\n1\n"}, name="d"))
    table = Dataset.Tabular.from_delimited_files((store, "a.csv")).register(ws, name)
    assert Dataset.get_by_name(ws, name).to_pandas_dataframe()["x"].tolist() == [1]
    assert table.id == Dataset.get_by_name(ws, name).id


TARGET_READ = """\
    import os, sys
    from runyard import Run
    run = Run.get_context()
    total = 0
    for d, _, fs in os.walk(sys.argv[1]):
        for f in fs:
            total += sum(int(x) for x in open(os.path.join(d, f)).read().split()[1:])
    run.log("total_files", total)
    run.log("paths", ",".join(run.input_datasets["table"].to_path()))  # no pandas in every image
    """


def test_a_dataset_reaches_the_job_on_every_target(target_experiment, project, tmp_path):
    """A local-folder datastore on this machine, read by a job on each target (a Ray cluster on
    this machine sees the same folder); the job reads the copy in its folder."""
    experiment, target = target_experiment
    ws = experiment.workspace
    name = f"t{uuid.uuid4().hex[:8]}"
    store = Datastore.register_local(ws, name, project({"a.csv": "x\n1\n2\n", "b/c.csv": "x\n3\n"}, name="d"))
    table = Dataset.Tabular.from_delimited_files([(store, "")]).register(ws, name)
    run = experiment.submit(ScriptRunConfig(project({"read.py": TARGET_READ}), script="read.py",
                                            arguments=[table.as_named_input("table").as_download()],
                                            compute_target=target))
    run.wait_for_completion(timeout=600)
    assert run.get_metrics() == {"total_files": 6, "paths": "/a.csv,/b/c.csv"}
    assert [r.id for r in table.consuming_runs] == [run.id]


def test_run_configuration_data(workspace, experiment, project, raw):
    table = Dataset.Tabular.from_delimited_files((raw(workspace), "a.csv")).register(workspace, "t")
    run_config = RunConfiguration(data={"table": table})
    run = experiment.submit(ScriptRunConfig(project({"r.py": """\
        from runyard import Run
        Run.get_context().log("rows", len(Run.get_context().input_datasets["table"].to_pandas_dataframe()))
        """}), script="r.py", run_config=run_config))
    run.wait_for_completion(timeout=120)
    assert run.get_metrics() == {"rows": 2}
    with pytest.raises(ConfigError, match="data\\['other'\\] is the dataset input named 'table'"):
        RunConfiguration(data={"other": table.as_named_input("table")})


def test_experiment_on_any_store_reads_a_dataset(any_store_workspace, project, raw):
    ws = any_store_workspace
    table = Dataset.Tabular.from_delimited_files((raw(ws), "a.csv")).register(ws, "t")
    run = Experiment(ws, "stores").submit(ScriptRunConfig(project({"read.py": READ}), script="read.py",
                                                          arguments=[table.as_named_input("table").as_download()]))
    run.wait_for_completion(timeout=120)
    assert run.get_metrics() == {"rows": 2, "total": 4.0}
    assert [r.id for r in table.consuming_runs] == [run.id]
