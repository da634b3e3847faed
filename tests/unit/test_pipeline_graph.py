"""The pipeline graph: producers, upstream steps, order, and every structural error."""

from __future__ import annotations

import pytest

from runyard.errors import ConfigError
from runyard.pipeline import (CommandStep, OutputFileDatasetConfig, PipelineData, PipelineParameter,
                              PythonScriptStep)
from runyard.pipeline._driver import fill
from runyard.pipeline.graph import build, downstream
from runyard.pipeline.pipeline import _parameters


def script(name, **kwargs):
    return PythonScriptStep("s.py", name=name, source_directory=".", **kwargs)


def test_order_follows_the_data_not_the_list():
    raw, model = OutputFileDatasetConfig("raw"), PipelineData("model")
    evaluate = script("evaluate", inputs=[model, raw.as_input()], arguments=["--m", model])
    train = script("train", arguments=[raw.as_input(), model])
    prep = script("prep", arguments=["--out", raw])
    side = script("side")
    graph = build([evaluate, train, prep, side])
    assert graph.producers == {"raw": "prep", "model": "train"}
    assert graph.upstream == {"evaluate": ["train", "prep"], "train": ["prep"], "prep": [], "side": []}
    assert graph.order == ["prep", "side", "train", "evaluate"]
    assert downstream(graph, "prep") == ["train", "evaluate"]


def test_arguments_become_tokens_filled_in_by_the_driver():
    raw, out = OutputFileDatasetConfig("raw"), OutputFileDatasetConfig("out")
    alpha = PipelineParameter("alpha", 0.5)
    step = script("s", arguments=["--in", raw.as_input("data"), "--out", out, "--alpha", alpha, "-n", 3])
    assert [i.name for i in step.inputs] == ["data"] and [o.name for o in step.outputs] == ["out"]
    assert fill(step.arguments, {"alpha": 0.1}, {"data": "inputs/data"}, {"out": "outputs/out"}) == [
        "--in", "inputs/data", "--out", "outputs/out", "--alpha", "0.1", "-n", "3"]
    assert list(_parameters([step])) == ["alpha"]


@pytest.mark.parametrize("make, message", [
    (lambda x, y: [script("a", arguments=[x, y.as_input()]), script("b", arguments=[y, x.as_input()])],
     "'a' -> 'b' -> 'a' form a cycle"),
    (lambda x, y: [script("a", arguments=[x, x.as_input()])], "'a' -> 'a' form a cycle"),
    (lambda x, y: [script("a", outputs=[x]), script("b", outputs=[x])], "output 'x' is written by two steps"),
    (lambda x, y: [script("a", outputs=[x]), script("b", outputs=[OutputFileDatasetConfig("x")])],
     "output 'x' is written by two steps"),
    (lambda x, y: [script("a", inputs=[y])], "step 'a' reads input 'y'"),
    (lambda x, y: [script("a"), script("a")], "two steps are named 'a'"),
    (lambda x, y: [], "non-empty list"),
    (lambda x, y: ["a"], "steps\\[0\\] must be a step"),
])
def test_structural_errors(make, message):
    with pytest.raises(ConfigError, match=message):
        build(make(OutputFileDatasetConfig("x"), OutputFileDatasetConfig("y")))


def test_bad_step_arguments_name_the_step_and_field():
    with pytest.raises(ConfigError, match="step 'a': inputs\\[0\\] must be"):
        script("a", inputs=["data.csv"])
    with pytest.raises(ConfigError, match="step 'a': arguments\\[1\\] must be"):
        script("a", arguments=["--x", None])
    with pytest.raises(ConfigError, match="output name '1bad'"):
        OutputFileDatasetConfig("1bad")
    with pytest.raises(ConfigError, match="default_value must be"):
        PipelineParameter("p", [1])
    with pytest.raises(ConfigError, match="command must be"):
        CommandStep(None)
    with pytest.raises(ConfigError, match="two inputs are named 'x'"):
        script("a", inputs=[OutputFileDatasetConfig("x").as_input(), OutputFileDatasetConfig("x").as_input()])


def test_parameters_check_their_kind():
    assert PipelineParameter("n", 3).check(4) == 4
    assert PipelineParameter("lr", 0.1).check(1) == 1
    for parameter, value in ((PipelineParameter("n", 3), 1.5), (PipelineParameter("flag", True), 1),
                             (PipelineParameter("name", "a"), 2)):
        with pytest.raises(ConfigError, match=f"pipeline_parameters\\[{parameter.name!r}\\]"):
            parameter.check(value)
    with pytest.raises(ConfigError, match="two PipelineParameters are named 'p'"):
        _parameters([script("a", arguments=[PipelineParameter("p", 1)]),
                     script("b", arguments=[PipelineParameter("p", 2)])])


def test_steps_that_write_what_the_listed_steps_read_are_added():
    """Azure ML's Pipeline(ws, steps=[last_step]): the writers of its inputs come along."""
    raw, model = OutputFileDatasetConfig("raw"), PipelineData("model")
    script("prep", arguments=["--out", raw])  # not listed below: found as the writer of raw
    train = script("train", arguments=[raw.as_input(), model])
    evaluate = script("evaluate", inputs=[model, raw.as_input()], arguments=["--m", model])
    graph = build([evaluate])
    assert graph.order == ["prep", "train", "evaluate"]
    assert graph.upstream["evaluate"] == ["train", "prep"]
    unrelated = script("unrelated")
    assert build([unrelated, train]).order == ["unrelated", "prep", "train"]
