"""A pipeline's steps as a graph: which step produces each output, which steps each step
waits for, and an order to run them in. Every structural error is found here, before
anything is recorded.

>>> graph = build([prep, train])  # doctest: +SKIP
>>> graph.upstream["train"]  # doctest: +SKIP
['prep']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from .steps import PipelineStep


@dataclass
class Graph:
    steps: dict[str, PipelineStep]
    #: output name -> the step that writes it
    producers: dict[str, str]
    #: step name -> the steps whose outputs it reads, in the order of its inputs
    upstream: dict[str, list[str]]
    #: every step once, each after the steps it reads from
    order: list[str]


def build(steps: Any) -> Graph:
    if not isinstance(steps, (list, tuple)) or not steps:
        raise ConfigError(f"Pipeline: steps must be a non-empty list of steps, got {steps!r}")
    by_name: dict[str, PipelineStep] = {}
    for index, step in enumerate(steps):
        if not isinstance(step, PipelineStep):
            raise ConfigError(f"Pipeline: steps[{index}] must be a step (PythonScriptStep, CommandStep, ...), "
                              f"got {type(step).__name__}")
        if step.name in by_name:
            if by_name[step.name] is step:
                raise ConfigError(f"Pipeline: step {step.name!r} is listed twice in steps")
            raise ConfigError(f"Pipeline: two steps are named {step.name!r}; step names must be unique")
        by_name[step.name] = step
    added = _add_upstream(by_name)
    producers: dict[str, str] = {}
    written: dict[str, Any] = {}
    for step in by_name.values():
        for output in step.outputs:
            if output.name in producers:
                raise ConfigError(f"Pipeline: output {output.name!r} is written by two steps, "
                                  f"{producers[output.name]!r} and {step.name!r}; each output has one writer")
            producers[output.name] = step.name
            written[output.name] = output
    upstream: dict[str, list[str]] = {}
    for step in by_name.values():
        upstream[step.name] = []
        for item in step.inputs:
            producer = producers.get(item.output.name)
            if producer is None or written[item.output.name] is not item.output:
                why = (f" (step {step.name!r} is in the pipeline because it writes {added[step.name][1]!r}, "
                       f"which step {added[step.name][0]!r} reads)" if step.name in added else "")
                raise ConfigError(f"Pipeline: step {step.name!r} reads input {item.name!r} (output "
                                  f"{item.output.name!r}), which no step of this pipeline writes; add the "
                                  f"step that lists it in outputs or arguments{why}")
            if producer not in upstream[step.name]:
                upstream[step.name].append(producer)
    return Graph(by_name, producers, upstream, _order(upstream))


def _add_upstream(by_name: dict[str, PipelineStep]) -> dict[str, tuple[str, str]]:
    """Add the steps that write what the listed steps read, and theirs, as Azure ML does for
    ``Pipeline(ws, steps=[last_step])``; an output with several writers is left to the
    checks that follow. Returns each added step's (reader, output): why it was added."""
    added: dict[str, tuple[str, str]] = {}
    listed = set(map(id, by_name.values()))
    queue = list(by_name.values())
    while queue:
        step = queue.pop()
        for item in step.inputs:
            writers = getattr(item.output, "_writers", [])
            if len(writers) != 1 or id(writers[0]) in listed:
                continue
            writer = writers[0]
            if writer.name in by_name:
                raise ConfigError(f"Pipeline: step {step.name!r} reads {item.output.name!r}, written by a step "
                                  f"named {writer.name!r} that is not the step of that name in steps")
            by_name[writer.name] = writer
            added[writer.name] = (step.name, item.output.name)
            listed.add(id(writer))
            queue.append(writer)
    return added


def _order(upstream: dict[str, list[str]]) -> list[str]:
    """Steps in the order given, each after its upstream steps; a cycle is an error naming it."""
    order: list[str] = []
    done: set[str] = set()
    while len(order) < len(upstream):
        ready = [name for name in upstream if name not in done and all(u in done for u in upstream[name])]
        if not ready:
            raise ConfigError(f"Pipeline: the steps {' -> '.join(repr(n) for n in _cycle(upstream, done))} "
                              f"form a cycle (each reads an output of the next); a pipeline must be acyclic")
        order.extend(ready)
        done.update(ready)
    return order


def _cycle(upstream: dict[str, list[str]], done: set[str]) -> list[str]:
    """One cycle among the steps not ``done``, as a path that returns to its start."""
    start = next(name for name in upstream if name not in done)
    path: list[str] = []
    current = start
    while current not in path:
        path.append(current)
        current = next(u for u in upstream[current] if u not in done)
    return [*path[path.index(current):], current]


def downstream(graph: Graph, name: str) -> list[str]:
    """Every step that reads, directly or not, from step ``name``."""
    found: list[str] = []
    for candidate in graph.order:
        if any(u == name or u in found for u in graph.upstream[candidate]):
            found.append(candidate)
    return found
