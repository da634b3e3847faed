"""``type: parallel`` YAML (runyard.pipeline.parallel_yaml): Azure ML CLI v2's fields become the
ParallelRunConfig they stand for, and each bad field is an error naming the file, the line and
the field, before anything is recorded."""

from __future__ import annotations

import pytest

from runyard.config import load_job_file
from runyard.errors import ConfigError
from runyard.pipeline import load_pipeline

SCRIPT = "def init():\n    pass\n\n\ndef run(mini_batch):\n    return mini_batch\n"

GOOD = """\
$schema: https://azuremlschemas.azureedge.net/latest/parallelJob.schema.json
type: parallel
name: score-files
experiment_name: scoring
description: score every file
tags: {team: ml}
compute: azureml:local
inputs:
  files:
    type: uri_folder
    path: ./data
  model:
    type: uri_folder
    path: ./model
    mode: ro_mount
  alpha: 0.5
  label: {type: string, value: first}
outputs:
  scores: {}
  extra: {type: uri_folder}
input_data: ${{inputs.files}}
mini_batch_size: "3"
resources:
  instance_count: 1
max_concurrency_per_instance: 2
mini_batch_error_threshold: 4
error_threshold: 7
logging_level: DEBUG
retry_settings:
  max_retries: 1
  timeout: 30
environment_variables: {MODE: 1}
task:
  type: run_function
  code: ./src
  entry_script: score.py
  program_arguments: >-
    --model ${{inputs.model}} --alpha ${{inputs.alpha}} --tag=${{inputs.label}}
    --extra ${{outputs.extra}} --allowed_failed_percent 25
  append_row_to: ${{outputs.scores}}
"""


def write(project, text: str):
    folder = project({"job.yml": text, "src/score.py": SCRIPT, "data/a.txt": "a", "data/b.txt": "b",
                      "model/weights.txt": "1", "table/sales.csv": "store,sales\n1,10\n2,20\n"})
    return folder / "job.yml"


def test_every_field_maps_onto_parallel_run_config_as_azure_defines_it(workspace, project):
    job = load_job_file(write(project, GOOD), workspace)
    step = job.config
    config = step.parallel_run_config
    assert (job.experiment_name, job.display_name, job.tags) == ("scoring", "score-files", {"team": "ml"})
    assert step.name == "score-files" and step.input_type == "file" and step.partitioned == ["files"]
    assert config.entry_script == "score.py" and config.source_directory.endswith("src")
    assert config.mini_batch_size == "3"
    assert (config.node_count, config.process_count_per_node) == (1, 2)
    assert config.allowed_failed_count == 4  # mini_batch_error_threshold: failed mini batches
    assert config.error_threshold == 7  # failed items
    assert config.allowed_failed_percent == 25  # Azure's predefined program argument
    assert config.run_max_try == 2  # retry_settings.max_retries: retries after the first try
    assert config.run_invocation_timeout == 30
    assert config.logging_level == "DEBUG" and config.description == "score every file"
    assert config.environment_variables == {"MODE": "1"}
    assert config.output_action == "append_row" and step.output.name == "scores"
    assert config.compute_target == "local"
    arguments = [t.get("text", t.get("input", t.get("output"))) for t in step.user_arguments]
    assert arguments == ["--model", "model", "--alpha", "0.5", "--tag=first", "--extra", "extra",
                         "--allowed_failed_percent", "25"]
    assert sorted(o.name for o in step.outputs) == ["extra", "scores"]
    assert sorted(d.name for d in step.datasets) == ["files", "model"]
    assert next(d for d in step.datasets if d.name == "model").mode == "mount"


def test_azure_defaults(workspace, project):
    text = GOOD.split("mini_batch_size:")[0] + "task:\n  code: ./src\n  entry_script: score.py\n"
    text = text.replace("  model:\n    type: uri_folder\n    path: ./model\n    mode: ro_mount\n", "")
    text = text.replace("  alpha: 0.5\n  label: {type: string, value: first}\n", "")
    text = text.replace("outputs:\n  scores: {}\n  extra: {type: uri_folder}\n", "")
    config = load_job_file(write(project, text), workspace).config.parallel_run_config
    assert config.mini_batch_size == 1  # Azure CLI v2: one file per mini batch
    assert config.run_max_try == 3 and config.run_invocation_timeout == 60  # max_retries 2, timeout 60
    assert config.error_threshold == -1 and config.allowed_failed_count == -1
    assert config.allowed_failed_percent is None and config.process_count_per_node is None  # the CPUs
    assert config.output_action == "summary_only"  # no append_row_to
    assert config.logging_level == "INFO"


def test_a_table_is_split_by_size(workspace, project):
    text = GOOD.replace("    type: uri_folder\n    path: ./data", "    type: mltable\n    path: ./table/sales.csv")
    text = text.replace('mini_batch_size: "3"', 'mini_batch_size: "10 kb"')
    step = load_job_file(write(project, text), workspace).config
    assert step.input_type == "tabular" and step.parallel_run_config.mini_batch_size == "10 kb"


def line(text: str, needle: str) -> int:
    return [i for i, row in enumerate(text.splitlines(), 1) if needle in row][-1]


BAD = [  # (what, old, new, the line's text, the field, words of the message)
    ("unknown top-level field", "input_data:", "colour: red\ninput_data:", "colour:", "colour",
     "unknown field 'colour'; valid fields here: $schema, name, display_name, experiment_name, description, tags, "
     "compute, inputs, outputs, input_data, mini_batch_size"),
    ("unknown task field", "  entry_script:", "  script: x.py\n  entry_script:", "script: x.py", "task.script",
     "valid fields here: type, code, entry_script, environment, program_arguments, append_row_to"),
    ("unknown retry field", "  timeout: 30", "  timeout: 30\n  delay: 5", "delay:", "retry_settings.delay",
     "valid fields here: max_retries, timeout"),
    ("unknown resources field", "  instance_count: 1", "  instance_count: 1\n  gpus: 1", "gpus:",
     "resources.gpus", "valid fields here: instance_count"),
    ("environment at the top level", "input_data:", "environment: azureml:env:1\ninput_data:", "environment:",
     "environment", "environment belongs under task (task.environment)"),
    ("task type", "  type: run_function", "  type: model", "type: model", "task.type",
     "task type 'model' is not supported; runyard runs type: run_function"),
    ("no input_data", "input_data: ${{inputs.files}}\n", "", "$schema", "input_data", "Field required"),
    ("input_data not a reference", "input_data: ${{inputs.files}}", "input_data: ./data", "input_data:",
     "input_data", "input_data names the input to split into mini batches"),
    ("input_data names no input", "input_data: ${{inputs.files}}", "input_data: ${{inputs.fils}}", "input_data:",
     "input_data", "no input 'fils' (its inputs: files, model, alpha, label)"),
    ("input_data is a literal", "input_data: ${{inputs.files}}", "input_data: ${{inputs.alpha}}", "input_data:",
     "input_data", "input 'alpha' is a value"),
    ("mini_batch_size not a size", 'mini_batch_size: "3"', 'mini_batch_size: "3 parsecs"', "mini_batch_size:",
     "mini_batch_size", "mini_batch_size must be a whole number >= 1"),
    ("mini_batch_size a size for files", 'mini_batch_size: "3"', 'mini_batch_size: "3kb"', "mini_batch_size:",
     "mini_batch_size", "is a size; for a file dataset it is a number of files"),
    ("partition_keys of files", 'mini_batch_size: "3"', "partition_keys: [store]", "partition_keys:",
     "partition_keys", "need partitioned tabular datasets"),
    ("partition_keys and mini_batch_size", 'mini_batch_size: "3"', 'mini_batch_size: "3"\npartition_keys: [store]',
     "partition_keys:", "partition_keys", "give partition_keys or mini_batch_size, not both"),
    ("two instances", "  instance_count: 1", "  instance_count: 2", "instance_count:", "resources.instance_count",
     "node_count=2"),
    ("no concurrency", "max_concurrency_per_instance: 2", "max_concurrency_per_instance: 0",
     "max_concurrency_per_instance:", "max_concurrency_per_instance", "greater than or equal to 1"),
    ("mini_batch_error_threshold below -1", "mini_batch_error_threshold: 4", "mini_batch_error_threshold: -2",
     "mini_batch_error_threshold:", "mini_batch_error_threshold", "greater than or equal to -1"),
    ("error_threshold not a number", "error_threshold: 7", "error_threshold: some", "error_threshold:",
     "error_threshold", "'some'"),
    ("two error thresholds", "--allowed_failed_percent 25", "--allowed_failed_percent 25 --error_threshold 3",
     "error_threshold: 7", "error_threshold", "disagree; give one"),
    ("timeout too long", "  timeout: 30", "  timeout: 300000", "timeout:", "retry_settings.timeout",
     "less than or equal to 259200"),
    ("negative retries", "  max_retries: 1", "  max_retries: -1", "max_retries:", "retry_settings.max_retries",
     "greater than or equal to 0"),
    ("logging level", "logging_level: DEBUG", "logging_level: LOUD", "logging_level:", "logging_level",
     "logging_level must be one of"),
    ("missing code folder", "  code: ./src", "  code: ./nowhere", "code:", "task.code",
     "folder './nowhere' does not exist"),
    ("missing entry script", "  entry_script: score.py", "  entry_script: other.py", "entry_script:",
     "task.entry_script", "'other.py' does not exist in source_directory"),
    ("entry script neither Python nor R", "  entry_script: score.py", "  entry_script: score.sh", "entry_script:",
     "task.entry_script", "must name a Python file"),
    ("unknown environment", "  entry_script: score.py", "  entry_script: score.py\n  environment: azureml:nosuch:3",
     "environment:", "task.environment", "environment 'nosuch' version 3 is not registered"),
    ("append_row_to not an output", "  append_row_to: ${{outputs.scores}}", "  append_row_to: ./scores.txt",
     "append_row_to:", "task.append_row_to", "name one of the job's outputs, ${{outputs.NAME}}"),
    ("append_row_to names no output", "  append_row_to: ${{outputs.scores}}", "  append_row_to: ${{outputs.sc}}",
     "append_row_to:", "task.append_row_to", "no output 'sc' (its outputs: scores, extra)"),
    ("argument names no input", "--alpha ${{inputs.alpha}}", "--alpha ${{inputs.beta}}", "program_arguments:",
     "task.program_arguments", "no input 'beta'"),
    ("data glued to text", "--model ${{inputs.model}}", "--model=${{inputs.model}}", "program_arguments:",
     "task.program_arguments", "'--model=${{inputs.model}}': a reference to data, an output or a pipeline input "
     "must stand as a word of its own"),
    ("parent reference in a job of its own", "--alpha ${{inputs.alpha}}", "--alpha ${{parent.inputs.alpha}}",
     "program_arguments:", "task.program_arguments", "are for a job inside a pipeline file"),
    ("unknown reference", "--alpha ${{inputs.alpha}}", "--alpha ${{alpha}}", "program_arguments:", "task.program_arguments",
     "${{alpha}} is no reference runyard knows here"),
    ("predefined argument runyard lacks", "--allowed_failed_percent 25", "--task_overhead_timeout 1200",
     "program_arguments:", "task.program_arguments", "--task_overhead_timeout is one of Azure's predefined arguments"),
    ("predefined argument not a number", "--allowed_failed_percent 25", "--allowed_failed_percent many",
     "program_arguments:", "task.program_arguments", "--allowed_failed_percent takes a number, got 'many'"),
    ("percent over 100", "--allowed_failed_percent 25", "--allowed_failed_percent 125", "program_arguments:",
     "task.program_arguments", "allowed_failed_percent must be a number from 0 to 100"),
    ("unused input", "  alpha: 0.5\n", "  alpha: 0.5\n  beta: 1\n", "beta:", "inputs.beta",
     "the job does not use this input"),
    ("unused output", "  extra: {type: uri_folder}\n", "  extra: {type: uri_folder}\n  more: {}\n", "more:",
     "outputs.more", "the job does not use this output"),
    ("missing data", "    path: ./data", "    path: ./nodata", "path: ./nodata", "inputs.files.path",
     "'./nodata' does not exist"),
    ("uri_file of a folder", "    type: uri_folder\n    path: ./data", "    type: uri_file\n    path: ./data",
     "path: ./data", "inputs.files.path", "is a folder; type uri_file names one file"),
    ("mltable of text files", "    type: uri_folder\n    path: ./data", "    type: mltable\n    path: ./data",
     "path: ./data", "inputs.files.path", "type mltable reads a CSV or Parquet file"),
    ("unregistered dataset", "    path: ./data", "    path: azureml:nosuch:2", "path: azureml", "inputs.files.path",
     "nosuch"),
    ("bad input mode", "    mode: ro_mount", "    mode: direct", "mode: direct", "inputs.model.mode",
     "'ro_mount', 'download' or 'mount'"),
    ("an output of a file", "  extra: {type: uri_folder}", "  extra: {type: uri_file}", "extra:",
     "outputs.extra.type", "'uri_folder'"),
    ("not the local target", "compute: azureml:local", "compute: azureml:gpu", "compute:", "compute",
     "'gpu' is not in workspace"),
]


@pytest.mark.parametrize("what, old, new, at, field, words", BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_file_line_and_field(workspace, project, what, old, new, at, field, words):
    assert old in GOOD
    text = GOOD.replace(old, new)
    path = write(project, text)
    with pytest.raises(ConfigError) as info:
        load_job_file(path, workspace)
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert f"line {line(text, at)}" in message, message
    assert f"field '{field}'" in message, message
    assert words in message, message
    assert not list(workspace._store.list_runs())  # nothing recorded


PIPELINE = """\
type: pipeline
settings:
  default_compute: local
inputs:
  factor: 10
jobs:
  prep:
    command: python prep.py --out ${{outputs.numbers}}
    code: src
    outputs:
      numbers: {}
  score:
    type: parallel
    inputs:
      numbers: ${{parent.jobs.prep.outputs.numbers}}
      factor: ${{parent.inputs.factor}}
    outputs:
      scores: {}
    input_data: ${{inputs.numbers}}
    mini_batch_size: "2"
    task:
      code: src
      entry_script: score.py
      program_arguments: --factor ${{inputs.factor}}
      append_row_to: ${{outputs.scores}}
"""


def pipeline_error(workspace, project, text: str) -> tuple[str, str]:
    folder = project({"pipeline.yml": text, "src/prep.py": "print(1)\n", "src/score.py": SCRIPT})
    with pytest.raises(ConfigError) as info:
        load_pipeline(folder / "pipeline.yml", workspace)
    return str(info.value), str(folder / "pipeline.yml")


def test_a_parallel_job_of_a_pipeline_file_is_a_parallel_run_step(workspace, project):
    folder = project({"pipeline.yml": PIPELINE, "src/prep.py": "print(1)\n", "src/score.py": SCRIPT})
    pipeline = load_pipeline(folder / "pipeline.yml", workspace)
    prep, score = pipeline.steps
    assert type(score).__name__ == "ParallelRunStep" and score.partitioned == ["numbers"]
    assert [i.output.name for i in score.inputs] == ["numbers"]
    assert sorted(pipeline.parameters) == ["factor"]
    assert score.parallel_run_config.mini_batch_size == "2"


PIPELINE_BAD = [
    ("unknown parallel field", "    input_data:", "    colour: red\n    input_data:", "colour:", "jobs.score.colour",
     "unknown field 'colour'; valid fields here: inputs, outputs, input_data"),
    ("unknown job", "parent.jobs.prep.outputs", "parent.jobs.prp.outputs", "numbers: ${{parent",
     "jobs.score.inputs.numbers", "no job 'prp' (its jobs: prep, score)"),
    ("unknown parameter", "parent.inputs.factor", "parent.inputs.fctr", "factor: ${{parent",
     "jobs.score.inputs.factor", "no input 'fctr' (its inputs: factor)"),
    ("task type", "      code: src\n      entry_script", "      type: function\n      code: src\n      entry_script",
     "type: function", "jobs.score.task.type", "task type 'function' is not supported"),
    ("partition keys of a step output", '    mini_batch_size: "2"', "    partition_keys: [store]",
     "partition_keys:", "jobs.score.partition_keys", "need partitioned tabular datasets"),
    ("not the local target by default", "default_compute: local", "default_compute: gpu", "default_compute:",
     "settings.default_compute", "'gpu' is not in workspace"),
]


@pytest.mark.parametrize("what, old, new, at, field, words", PIPELINE_BAD, ids=[b[0] for b in PIPELINE_BAD])
def test_bad_parallel_job_of_a_pipeline_names_file_line_and_field(workspace, project, what, old, new, at, field,
                                                                  words):
    assert old in PIPELINE
    text = PIPELINE.replace(old, new)
    message, path = pipeline_error(workspace, project, text)
    assert message.startswith(path), message
    assert f"line {line(text, at)}" in message, message
    assert f"field '{field}'" in message, message
    assert words in message, message


def test_a_parallel_job_file_given_as_a_pipeline_is_pointed_to_job_submit(workspace, project):
    message, path = pipeline_error(workspace, project, GOOD)
    assert message.startswith(path) and "this is a parallel job; submit it with 'runyard job submit -f'" in message
