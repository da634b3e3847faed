"""Pipeline YAML (runyard.pipeline.yaml_spec): the same pipeline as the Python objects, and
errors that name the file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from runyard import Environment, RunConfiguration
from runyard.errors import ConfigError
from runyard.pipeline import (CommandStep, OutputFileDatasetConfig, Pipeline, PipelineParameter, PythonScriptStep,
                              RScriptStep, load_pipeline)
from runyard.pipeline.yaml_spec import load_pipeline_file, parse_parameter

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pipeline-diabetes"

EVERY_KIND = """\
$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json
type: pipeline
display_name: nightly
experiment_name: yaml-pipes
description: every kind of step
tags: {team: ml}
settings:
  default_compute: azureml:local
  max_concurrent_steps: 2
  force_rerun: true
inputs:
  alpha: 0.5
  epochs: {type: integer, default: 3}
  deep: {type: boolean, default: false}
  label: {type: string, value: run-a, description: shown in reports}
  rate: {type: number, default: 1}
jobs:
  prep:
    type: command
    code: src
    command: python prep.py --out ${{outputs.prepared}} --alpha ${{ parent.inputs.alpha }} --rate ${{parent.inputs.rate}}
    environment: requirements.txt
    environment_variables: {MODE: 1}
    limits: {timeout: 600}
    resources: {num_cpus: 1, max_retries: 2}
    outputs:
      prepared: {}
      extra: {type: uri_folder, mode: rw_mount}
  train:
    code: ./src/
    command: >-
      python train.py --data ${{inputs.data}} --epochs ${{inputs.epochs}} --deep ${{parent.inputs.deep}}
      --n ${{inputs.n}} --model ${{outputs.model}}
    inputs:
      data:
        path: ${{parent.jobs.prep.outputs.prepared}}
        mode: ro_mount
      epochs: ${{parent.inputs.epochs}}
      n: 7
      side: ${{parent.jobs.prep.outputs.extra}}
    outputs:
      model:
    is_deterministic: false
  report:
    code: r
    command: Rscript report.R --model ${{parent.jobs.train.outputs.model}} --label "${{parent.inputs.label}}"
    compute: local
  listing:
    command: ls -la ${{parent.jobs.train.outputs.model}} ${{outputs.listing}}
    outputs: {listing: {}}
  shell:
    command: echo "${{parent.inputs.label}} done" > ${{outputs.note}}/note.txt && cat '${{parent.jobs.listing.outputs.listing}}'/x
    outputs: {note: {}}
  plain:
    command: echo hello | wc -c
    allow_reuse: false
"""


def every_kind_project(project) -> Path:
    return project({"pipeline.yml": EVERY_KIND, "src/prep.py": "print('prep')\n", "src/train.py": "print('train')\n",
                    "r/report.R": "cat('report')\n", "requirements.txt": "six==1.16.0\n"}, name="pipes")


def every_kind_in_python(ws, folder: Path) -> Pipeline:
    """EVERY_KIND written with the Python objects."""
    prepared, extra, model = (OutputFileDatasetConfig(n) for n in ("prepared", "extra", "model"))
    listing, note = OutputFileDatasetConfig("listing"), OutputFileDatasetConfig("note")
    alpha, epochs = PipelineParameter("alpha", 0.5), PipelineParameter("epochs", 3)
    deep = PipelineParameter("deep", False)
    label, rate = PipelineParameter("label", "run-a"), PipelineParameter("rate", 1.0)
    runconfig = RunConfiguration(environment=Environment.from_file(folder / "requirements.txt"),
                                 environment_variables={"MODE": "1"}, max_run_duration_seconds=600, num_cpus=1,
                                 max_retries=2)
    steps = [
        PythonScriptStep("prep.py", name="prep", arguments=["--out", prepared, "--alpha", alpha, "--rate", rate],
                         outputs=[extra], compute_target="local", runconfig=runconfig, source_directory=folder / "src"),
        PythonScriptStep("train.py", name="train", inputs=[extra.as_input("side")], allow_reuse=False,
                         arguments=["--data", prepared.as_input("data"), "--epochs", epochs, "--deep", deep,
                                    "--n", 7, "--model", model], source_directory=folder / "src"),
        RScriptStep("report.R", name="report", arguments=["--model", model.as_input(), "--label", label],
                    source_directory=folder / "r"),
        CommandStep(["ls", "-la", model.as_input(), listing], name="listing", source_directory=folder),
        CommandStep(["/bin/sh", "-c", """echo "${1} done" > "${2}"/note.txt && cat ''"${3}"''/x""", "sh",
                     label, note, listing.as_input()], name="shell", source_directory=folder),
        CommandStep("echo hello | wc -c", name="plain", source_directory=folder, allow_reuse=False),
    ]
    return Pipeline(ws, steps, description="every kind of step", max_concurrent_steps=2)


def test_every_kind_of_step_is_the_pipeline_python_builds(workspace, project):
    folder = every_kind_project(project)
    loaded = load_pipeline_file(folder / "pipeline.yml", workspace)
    from_yaml, from_python = loaded.pipeline, every_kind_in_python(workspace, folder)
    assert [type(s) for s in from_yaml.steps] == [PythonScriptStep, PythonScriptStep, RScriptStep, CommandStep,
                                                  CommandStep, CommandStep]
    for overrides in ({}, {"alpha": 0.1, "label": "run-b", "deep": True}):
        assert (from_yaml._definition(workspace, overrides, take_snapshots=True)
                == from_python._definition(workspace, overrides, take_snapshots=True))
    assert loaded.definition == from_python._definition(workspace, {}, take_snapshots=False)
    assert (loaded.experiment_name, loaded.display_name, loaded.tags, loaded.force_rerun) == (
        "yaml-pipes", "nightly", {"team": "ml"}, True)
    assert {n: p.default_value for n, p in from_yaml.parameters.items()} == {
        "alpha": 0.5, "rate": 1.0, "epochs": 3, "deep": False, "label": "run-a"}


def test_the_example_file_is_the_example_script(workspace):
    """examples/pipeline-diabetes: pipeline.yml and submit.py's objects."""
    prepared, model = OutputFileDatasetConfig("prepared"), OutputFileDatasetConfig("model")
    alpha = PipelineParameter("alpha", default_value=0.5)
    prep = PythonScriptStep("prep.py", name="prep", arguments=["--out", prepared], source_directory=EXAMPLE)
    train = PythonScriptStep("train.py", name="train", source_directory=EXAMPLE,
                             arguments=["--data", prepared.as_input(), "--alpha", alpha, "--model", model])
    evaluate = PythonScriptStep("evaluate.py", name="evaluate", source_directory=EXAMPLE,
                                arguments=["--data", prepared.as_input(), "--model", model.as_input()])
    in_python = Pipeline(workspace, steps=[prep, train, evaluate], description="diabetes: prep, train, evaluate")
    from_yaml = load_pipeline(EXAMPLE / "pipeline.yml", workspace)
    assert (from_yaml._definition(workspace, {"alpha": 0.1}, take_snapshots=True)
            == in_python._definition(workspace, {"alpha": 0.1}, take_snapshots=True))


def test_a_registered_environment_and_an_inline_one(workspace, project):
    Environment.from_file(every_kind_project(project) / "requirements.txt", name="six").register(workspace)
    folder = project({"a.py": "", "pipeline.yml": """\
        jobs:
          one:
            command: python a.py
            environment: azureml:six@latest
          two:
            command: python a.py
            environment:
              python: {conda_dependencies: {pip_packages: [six==1.16.0]}}
        """})
    one, two = load_pipeline(folder / "pipeline.yml", workspace).steps
    assert (one.runconfig.environment.name, one.runconfig.environment.version) == ("six", "1")
    assert two.runconfig.environment.name == "two-environment"
    assert two.runconfig.environment.hash == one.runconfig.environment.hash


def test_a_registered_dataset_is_a_jobs_input_as_in_python(workspace, project):
    from runyard import Dataset
    folder = project({"a.py": "", "data1/rows.csv": "x\n1\n", "data2/rows.csv": "x\n2\n"})
    for version in (1, 2):  # two versions: the file names one, @latest the other
        Dataset.File.from_files(str(folder / f"data{version}")).register(workspace, "rows", create_new_version=True)
    (folder / "pipeline.yml").write_text("""\
jobs:
  pinned:
    command: python a.py --data ${{inputs.data}}
    inputs:
      data: {type: uri_folder, path: azureml:rows:1}
  latest:
    command: python a.py --data ${{inputs.data}}
    inputs:
      data: {path: "azureml:rows@latest", mode: ro_mount}
""")
    from_yaml = load_pipeline(folder / "pipeline.yml", workspace)
    first, last = Dataset.get_by_name(workspace, "rows", 1), Dataset.get_by_name(workspace, "rows")
    from_python = Pipeline(workspace, [
        PythonScriptStep("a.py", name="pinned", source_directory=folder,
                         arguments=["--data", first.as_named_input("data").as_download()]),
        PythonScriptStep("a.py", name="latest", source_directory=folder,
                         arguments=["--data", last.as_named_input("data").as_mount()])])
    assert last.version == 2
    assert (from_yaml._definition(workspace, {}, take_snapshots=False)
            == from_python._definition(workspace, {}, take_snapshots=False))


# -- bad input ---------------------------------------------------------------------
GOOD = """\
type: pipeline
inputs:
  alpha: 0.5
jobs:
  prep:
    code: src
    command: python a.py --out ${{outputs.prepared}} --alpha ${{parent.inputs.alpha}}
    outputs:
      prepared: {}
  train:
    code: src
    command: python a.py --data ${{inputs.data}}
    inputs:
      data: ${{parent.jobs.prep.outputs.prepared}}
"""


def line(text: str, needle: str) -> int:
    """1-based number of the last line of ``text`` holding ``needle``."""
    return [i for i, row in enumerate(text.splitlines(), 1) if needle in row][-1]


def error_for(workspace, project, text: str) -> tuple[str, str]:
    folder = project({"pipeline.yml": text, "src/a.py": "print(1)\n"})
    with pytest.raises(ConfigError) as info:
        load_pipeline(folder / "pipeline.yml", workspace)
    return str(info.value), str(folder / "pipeline.yml")


def test_the_good_file_loads(workspace, project):
    folder = project({"pipeline.yml": GOOD, "src/a.py": "print(1)\n"})
    assert [s.name for s in load_pipeline(folder / "pipeline.yml", workspace).steps] == ["prep", "train"]


BAD = [  # (what, old, new, the line's text, the field, words of the message)
    ("unknown top-level key", "type: pipeline\n", "type: pipeline\ncolour: red\n", "colour:", "colour",
     "Extra inputs are not permitted"),
    ("unknown job key", "  train:\n", "  train:\n    colour: red\n", "colour:", "jobs.train.colour",
     "Extra inputs are not permitted"),
    ("unknown job", "parent.jobs.prep.outputs", "parent.jobs.prpe.outputs", "data:", "jobs.train.inputs.data",
     "no job 'prpe' (its jobs: prep, train)"),
    ("unknown output", "prep.outputs.prepared", "prep.outputs.prepped", "data:", "jobs.train.inputs.data",
     "job 'prep' has no output 'prepped' (its outputs: prepared)"),
    ("unknown parameter", "parent.inputs.alpha", "parent.inputs.beta", "command: python a.py --out",
     "jobs.prep.command", "no input 'beta' (its inputs: alpha)"),
    ("unknown job input", "${{inputs.data}}", "${{inputs.dta}}", "--data", "jobs.train.command",
     "job 'train' has no input 'dta' (its inputs: data)"),
    ("undeclared output", "${{outputs.prepared}}", "${{outputs.model}}", "--out", "jobs.prep.command",
     "job 'prep' has no output 'model'"),
    ("unknown reference", "${{inputs.data}}", "${{data}}", "--data", "jobs.train.command",
     "${{data}} is no reference runyard knows"),
    ("missing code folder", "code: src\n    command: python a.py --data", "code: nowhere\n    command: python a.py "
     "--data", "code: nowhere", "jobs.train.code", "folder 'nowhere' does not exist"),
    ("missing script", "python a.py --data", "python b.py --data", "--data", "jobs.train.command",
     "script 'b.py' does not exist"),
    ("unknown job type", "  train:\n", "  train:\n    type: sweep\n", "type: sweep", "jobs.train.type",
     "unknown job type 'sweep'; valid types: command"),
    ("parameter of the wrong type", "alpha: 0.5", "alpha: {type: integer, default: 0.5}", "alpha:", "inputs.alpha",
     "default 0.5 is not of type integer"),
    ("parameter without a default", "alpha: 0.5", "alpha: {type: number}", "alpha:", "inputs.alpha",
     "give the input a default"),
    ("data input of the pipeline", "alpha: 0.5", "alpha: 0.5\n  raw: {type: uri_folder, path: ./data}", "raw:",
     "inputs.raw", "not supported yet"),
    ("unused parameter", "alpha: 0.5", "alpha: 0.5\n  beta: 1", "beta:", "inputs.beta", "no job uses this input"),
    ("unused literal job input", "      data: ${{parent", "      n: 5\n      data: ${{parent", "n: 5",
     "jobs.train.inputs.n", "the command does not use this input"),
    ("unknown compute", "  train:\n", "  train:\n    compute: gpu\n", "compute: gpu", "jobs.train.compute",
     "'gpu' is not in workspace"),
    ("unknown environment", "  train:\n", "  train:\n    environment: nosuch:3\n", "environment:",
     "jobs.train.environment", "environment 'nosuch' version 3 is not registered"),
    ("two writers of one output", "    inputs:\n      data:", "    outputs:\n      prepared: {}\n    inputs:\n"
     "      data:", "prepared: {}", "jobs.train.outputs.prepared",
     "step 'prep' also has an output named 'prepared'"),
    ("a local folder as a job input", "      data: ${{parent.jobs.prep.outputs.prepared}}",
     "      data:\n        path: ./data", "path: ./data", "jobs.train.inputs.data.path",
     "register a local folder as a dataset first"),
    ("an unregistered dataset", "      data: ${{parent.jobs.prep.outputs.prepared}}",
     "      data:\n        path: azureml:nosuch:2", "path: azureml", "jobs.train.inputs.data.path", "nosuch"),
    ("a job's field of the wrong type", "  train:\n", "  train:\n    allow_reuse: maybe\n", "allow_reuse:",
     "jobs.train.allow_reuse", "'maybe'"),
    ("reuse said twice, differently", "  train:\n", "  train:\n    allow_reuse: true\n    is_deterministic: false\n",
     "is_deterministic:", "jobs.train.is_deterministic", "give one"),
]


@pytest.mark.parametrize("what, old, new, at, field, words", BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_file_line_and_field(workspace, project, what, old, new, at, field, words):
    assert old in GOOD
    text = GOOD.replace(old, new)
    message, path = error_for(workspace, project, text)
    assert message.startswith(path), message
    assert f"line {line(text, at)}" in message, message
    assert f"field '{field}'" in message, message
    assert words in message, message


def test_a_cycle_is_an_error_naming_the_file(workspace, project):
    text = GOOD.replace("python a.py --out", "python a.py --in ${{parent.jobs.train.outputs.model}} --out")
    text = text.replace("--data ${{inputs.data}}", "--data ${{inputs.data}} --model ${{outputs.model}}")
    text += "    outputs:\n      model: {}\n"
    message, path = error_for(workspace, project, text)
    assert message.startswith(path) and "field 'jobs'" in message
    assert "'prep' -> 'train' -> 'prep' form a cycle" in message


def test_a_command_job_file_is_pointed_to_job_submit(workspace, project):
    message, path = error_for(workspace, project, "type: command\ncommand: echo hi\n")
    assert message.startswith(path) and "runyard job submit" in message


def test_no_jobs(workspace, project):
    message, path = error_for(workspace, project, "type: pipeline\njobs: {}\n")
    assert message == f"{path}: line 2, field 'jobs': a pipeline needs at least one job"


def test_parameters_given_as_text_take_the_default_type():
    assert parse_parameter(PipelineParameter("n", 3), "10") == 10
    assert parse_parameter(PipelineParameter("alpha", 0.5), "1") == 1.0
    assert parse_parameter(PipelineParameter("deep", False), "True") is True
    assert parse_parameter(PipelineParameter("deep", True), "no") is False
    assert parse_parameter(PipelineParameter("label", "a"), "0.5") == "0.5"
    with pytest.raises(ConfigError, match=r"parameter 'n': '1.5' is not a whole number"):
        parse_parameter(PipelineParameter("n", 3), "1.5")
    with pytest.raises(ConfigError, match=r"--param deep: 'maybe' is not true or false"):
        parse_parameter(PipelineParameter("deep", True), "maybe", what="--param deep")
