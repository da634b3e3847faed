"""A designer pipeline: the canvas's graph, and the pipeline YAML it is saved as.

The graph is nodes (a module of the catalogue, its parameters, its place on the canvas) and
edges (an output port to an input port). Saving writes a folder that ``runyard pipeline
submit -f FOLDER/pipeline.yml`` runs unchanged:

    pipeline.yml        one command job per node: python modules/<module>.py with its ports'
                        folders and its parameters as arguments
    designer.json       the canvas: each node's module and position (the CLI does not read it)
    modules/            the modules' scripts, copied from runyard (the folder runs anywhere)
    params/             code parameters (scripts, typed-in CSV), one file each

Opening reads the YAML back into the graph, each parameter at the value the pipeline runs
with (``with_defaults``). Two kinds of problem: what cannot be drawn (an
unknown module or parameter, a value of the wrong kind, an edge between ports of different
types or into a taken port) is refused with a ``ConfigError`` naming the field; what a draft
may still have (an empty required parameter, an unconnected input, an unregistered dataset,
a cycle) is saved and listed per node, and a pipeline with problems is not submitted.

>>> graph = Graph.model_validate({"nodes": [{"id": "data", "module": "enter_data",
...                                         "params": {"data": "x\\n1\\n"}}]})
>>> [p.message for p in problems(graph)]
[]
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field

from ..errors import ConfigError, NotFoundError
from .catalogue import LEARNERS, MODULES, Module, learner_task

#: a node's id is its step's name, a pipeline's name its folder's
ID_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,63}$"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
YAML_FILE, LAYOUT_FILE, MODULES_DIR, PARAMS_DIR = "pipeline.yml", "designer.json", "modules", "params"
MAX_NODES, MAX_TEXT = 200, 1_000_000
_MODULE_SOURCES = Path(__file__).resolve().parent / "modules"
_OUTPUT_REF = re.compile(r"^\$\{\{parent\.jobs\.(?P<node>[A-Za-z0-9_]+)\.outputs\.(?P<output>[A-Za-z0-9_]+)\}\}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Position(_Strict):
    x: float = Field(0, allow_inf_nan=False)
    y: float = Field(0, allow_inf_nan=False)


class Node(_Strict):
    id: str = Field(pattern=ID_PATTERN, description="the step's name")
    module: str = Field(max_length=64)
    params: dict[str, Any] = Field(default_factory=dict)
    position: Position = Field(default_factory=Position)


class Edge(_Strict):
    source: str = Field(pattern=ID_PATTERN)
    source_port: str = Field(max_length=64)
    target: str = Field(pattern=ID_PATTERN)
    target_port: str = Field(max_length=64)


class Graph(_Strict):
    description: Optional[str] = Field(None, max_length=10_000)
    experiment_name: Optional[str] = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")
    nodes: list[Node] = Field(default_factory=list, max_length=MAX_NODES)
    edges: list[Edge] = Field(default_factory=list, max_length=4 * MAX_NODES)


class Problem(BaseModel):
    node: Optional[str] = Field(None, description="the node it concerns (none: the whole pipeline)")
    field: Optional[str] = None
    message: str


# -- checks ---------------------------------------------------------------------------
def check(graph: Graph) -> dict[str, Module]:
    """What cannot be drawn, refused (a ``ConfigError`` naming the field); node id -> module."""
    modules: dict[str, Module] = {}
    for i, node in enumerate(graph.nodes):
        where = f"nodes[{i}]"
        if node.id in modules:
            raise ConfigError(f"{where}.id: two nodes are called {node.id!r}")
        module = MODULES.get(node.module)
        if module is None:
            raise ConfigError(f"{where}.module: no module {node.module!r}; valid: {', '.join(MODULES)}")
        modules[node.id] = module
        known = {p.name: p for p in module.params}
        for name, value in node.params.items():
            if name not in known:
                raise ConfigError(f"{where}.params.{name}: {module.title} has no parameter {name!r}; valid: "
                                  f"{', '.join(known) or 'none'}")
            _check_value(f"{where}.params.{name}", known[name], value)
    taken: dict[tuple[str, str], int] = {}
    for i, edge in enumerate(graph.edges):
        where = f"edges[{i}]"
        for end in ("source", "target"):
            if getattr(edge, end) not in modules:
                raise ConfigError(f"{where}.{end}: no node {getattr(edge, end)!r}")
        out = _port(modules[edge.source].outputs, edge.source_port, f"{where}.source_port", modules[edge.source])
        into = _port(modules[edge.target].inputs, edge.target_port, f"{where}.target_port", modules[edge.target])
        if out.type != into.type:
            raise ConfigError(f"{where}: {edge.source}.{edge.source_port} gives a {out.type} and "
                              f"{edge.target}.{edge.target_port} takes a {into.type}")
        if edge.source == edge.target:
            raise ConfigError(f"{where}: a node cannot feed itself")
        if (edge.target, edge.target_port) in taken:
            raise ConfigError(f"{where}.target_port: {edge.target}.{edge.target_port} is connected already "
                              f"(edges[{taken[(edge.target, edge.target_port)]}]); an input takes one edge")
        taken[(edge.target, edge.target_port)] = i
    return modules


def _port(ports: tuple, name: str, where: str, module: Module) -> Any:
    for port in ports:
        if port.name == name:
            return port
    raise ConfigError(f"{where}: {module.title} has no such port {name!r}; its ports: "
                      f"{', '.join(p.name for p in ports) or 'none'}")


def _check_value(where: str, param: Any, value: Any) -> None:
    if value is None:
        return
    kind = param.kind
    ok = {"number": isinstance(value, (int, float)) and not isinstance(value, bool),
          "integer": isinstance(value, int) and not isinstance(value, bool),
          "boolean": isinstance(value, bool)}.get(kind, isinstance(value, str))
    if not ok:
        raise ConfigError(f"{where}: expected a {kind}, got {type(value).__name__}")
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise ConfigError(f"{where}: longer than {MAX_TEXT} characters")
    if isinstance(value, str) and kind != "code" and ("${{" in value or "\x00" in value):
        raise ConfigError(f"{where}: {value[:60]!r} holds '${{{{' (a reference in pipeline YAML) or a NUL; a "
                          f"parameter is a plain value")
    if kind == "choice" and value not in param.choices:
        raise ConfigError(f"{where}: {value!r} is not one of {', '.join(param.choices)}")
    if kind == "dataset" and value and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,254}(:[0-9]{1,9})?", value):
        raise ConfigError(f"{where}: {value!r} is not NAME or NAME:VERSION of a registered dataset")


def problems(graph: Graph) -> list[Problem]:
    """What a draft may still have: empty required parameters, unconnected inputs, a cycle."""
    modules = check(graph)
    found = []
    connected = {(e.target, e.target_port) for e in graph.edges}
    for node in graph.nodes:
        module = modules[node.id]
        for param in module.params:
            if param.required and _value(node, param) in (None, ""):
                found.append(Problem(node=node.id, field=f"params.{param.name}",
                                     message=f"{module.title} needs its {param.name!r} parameter"))
        for port in module.inputs:
            if not port.optional and (node.id, port.name) not in connected:
                found.append(Problem(node=node.id, field=f"inputs.{port.name}",
                                     message=f"connect {module.title}'s input {port.name!r} (a {port.type})"))
    cycle = _cycle(graph)
    if cycle:
        found.append(Problem(message=f"the edges form a cycle: {' -> '.join(cycle)}"))
    return found


def _value(node: Node, param: Any) -> Any:
    return node.params.get(param.name, param.default)


def with_defaults(graph: Graph) -> Graph:
    """The graph with each parameter it leaves out at its default: what the pipeline runs with,
    and what opening its saved folder gives."""
    modules = check(graph)
    nodes = [node.model_copy(update={"params": {p.name: _value(node, p) for p in modules[node.id].params
                                                if _value(node, p) not in (None, "")}})
             for node in graph.nodes]
    return graph.model_copy(update={"nodes": nodes})


def _cycle(graph: Graph) -> list[str]:
    after: dict[str, list[str]] = {n.id: [] for n in graph.nodes}
    for edge in graph.edges:
        after[edge.source].append(edge.target)
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in after[node]:
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        path.pop()
        return []

    for node in after:
        if node not in state and (found := visit(node)):
            return found
    return []


# -- graph -> files ---------------------------------------------------------------------
def output_name(node: str, port: str) -> str:
    """A node's output port's name in the YAML (unique in the pipeline: ports have no '_')."""
    return f"{node}_{port}"


def to_files(graph: Graph) -> dict[str, str]:
    """The folder's files but the modules: relative path -> text."""
    modules = check(graph)
    feeds = {(e.target, e.target_port): e for e in graph.edges}
    files: dict[str, str] = {}
    jobs: dict[str, Any] = {}
    for node in graph.nodes:
        module = modules[node.id]
        words, inputs, outputs = [f"python {MODULES_DIR}/{module.script}"], {}, {}
        for port in module.inputs:
            edge = feeds.get((node.id, port.name))
            if edge is not None:
                inputs[port.name] = f"${{{{parent.jobs.{edge.source}.outputs.{output_name(edge.source, edge.source_port)}}}}}"
                words.append(f"--{port.name} ${{{{inputs.{port.name}}}}}")
        for param in module.params:
            value = _value(node, param)
            if value in (None, ""):
                continue
            if param.kind == "code":
                path = f"{PARAMS_DIR}/{node.id}.{param.name}{param.suffix}"
                files[path] = value if value.endswith("\n") else value + "\n"
                value = path
            elif param.kind == "dataset":
                name, _, version = value.partition(":")
                inputs[param.name] = {"path": f"azureml:{name}:{version}" if version else f"azureml:{name}@latest"}
                words.append(f"--{param.name} ${{{{inputs.{param.name}}}}}")
                continue
            inputs[param.name] = str(value).lower() if isinstance(value, bool) else value
            words.append(f"--{param.name} ${{{{inputs.{param.name}}}}}")
        if module.name == "train_model" and _value(node, _param(module, "learner")):
            learner = _value(node, _param(module, "learner"))
            task = learner_task(learner)
            inputs.update(learner_class=LEARNERS[task][learner], task=task)
            words += ["--learner_class ${{inputs.learner_class}}", "--task ${{inputs.task}}"]
        for port in module.outputs:
            outputs[output_name(node.id, port.name)] = {}
            words.append(f"--{port.name} ${{{{outputs.{output_name(node.id, port.name)}}}}}")
        jobs[node.id] = {"code": ".", "command": " ".join(words), **({"inputs": inputs} if inputs else {}),
                         **({"outputs": outputs} if outputs else {})}
    document = {"type": "pipeline", "description": graph.description or "drawn in the runyard designer",
                **({"experiment_name": graph.experiment_name} if graph.experiment_name else {}), "jobs": jobs}
    files[YAML_FILE] = ("# Drawn in the runyard designer (positions: designer.json). Run it with:\n"
                        "#   runyard pipeline submit -f pipeline.yml\n"
                        + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=10_000))
    files[LAYOUT_FILE] = json.dumps({"version": 1, "nodes": {n.id: {"module": n.module, "x": n.position.x,
                                                                     "y": n.position.y} for n in graph.nodes}},
                                    indent=1) + "\n"
    return files


def _param(module: Module, name: str) -> Any:
    return next(p for p in module.params if p.name == name)


# -- files -> graph ---------------------------------------------------------------------
def from_folder(folder: Path) -> Graph:
    """The graph of a designer pipeline's folder (its YAML, with designer.json's positions)."""
    source = folder / YAML_FILE
    try:
        document = yaml.safe_load(source.read_text())
    except yaml.YAMLError as e:
        raise ConfigError(f"{source}: invalid YAML: {e}") from e
    if not isinstance(document, dict) or not isinstance(document.get("jobs"), dict):
        raise ConfigError(f"{source}: not a pipeline file (no jobs)")
    layout = {}
    if (folder / LAYOUT_FILE).is_file():
        layout = json.loads((folder / LAYOUT_FILE).read_text()).get("nodes", {})
    nodes, edges = [], []
    for node_id, job in document["jobs"].items():
        where = f"{source}: jobs.{node_id}"
        command = str((job or {}).get("command", ""))
        match = re.match(rf"python {MODULES_DIR}/([a-z_]+)\.py\b", command)
        if not match or match.group(1) not in MODULES:
            raise ConfigError(f"{where}: runs {command[:80]!r}, which is no designer module; the designer opens "
                              f"the pipelines it saved (run this one with runyard pipeline submit -f)")
        module = MODULES[match.group(1)]
        params: dict[str, Any] = {}
        for key, value in (job.get("inputs") or {}).items():
            if any(p.name == key for p in module.inputs):
                ref = _OUTPUT_REF.match(str(value))
                if not ref:
                    raise ConfigError(f"{where}.inputs.{key}: {value!r} is no other node's output")
                source_node = ref.group("node")
                edges.append({"source": source_node, "source_port": ref.group("output")[len(source_node) + 1:],
                              "target": node_id, "target_port": key})
                continue
            param = next((p for p in module.params if p.name == key), None)
            if param is None:
                continue  # what the module derives (a learner's class and task)
            if param.kind == "code":
                value = _param_file(folder, str(value), f"{where}.inputs.{key}")
            elif param.kind == "dataset":
                path = str(value["path"] if isinstance(value, dict) else value)
                name, _, version = path.removeprefix("azureml:").partition(":")
                value = name.removesuffix("@latest") + (f":{version}" if version else "")
            elif param.kind == "boolean" and isinstance(value, str):
                value = value == "true"
            params[key] = value
        place = layout.get(node_id, {})
        nodes.append({"id": node_id, "module": module.name, "params": params,
                      "position": {"x": place.get("x", 0), "y": place.get("y", 0)}})
    return Graph.model_validate({"description": document.get("description"),
                                 "experiment_name": document.get("experiment_name"), "nodes": nodes, "edges": edges})


def _param_file(folder: Path, relative: str, where: str) -> str:
    """A code parameter's text: a regular file of the folder's params/, never a link."""
    path = folder / relative
    inside = path.parent.resolve() == (folder / PARAMS_DIR).resolve() and not (folder / PARAMS_DIR).is_symlink()
    if not inside or path.is_symlink() or not path.is_file():
        raise ConfigError(f"{where}: {relative!r} is no file of {PARAMS_DIR}/ in the pipeline's folder")
    return path.read_text()


# -- the folder of designer pipelines -----------------------------------------------------
class DesignerFolder:
    """Designer pipelines, one folder each under ``root``."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def path(self, name: str) -> Path:
        if not isinstance(name, str) or not re.fullmatch(NAME_PATTERN, name):
            raise ConfigError(f"name: {name!r} is no pipeline name (letters, digits, '_' and '-', up to 64)")
        return self.root / name

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir()
                      if p.is_dir() and not p.is_symlink() and (p / YAML_FILE).is_file())

    def open(self, name: str) -> Graph:
        folder = self.path(name)
        if folder.is_symlink() or not (folder / YAML_FILE).is_file():
            raise NotFoundError(f"no designer pipeline {name!r} in {self.root}")
        return from_folder(folder)

    def save(self, name: str, graph: Graph) -> Path:
        """Write the pipeline's folder (each file atomically; files of the last save that this
        one has not are removed); its path."""
        files = to_files(graph)
        folder = self.path(name)
        if folder.is_symlink():
            raise ConfigError(f"{folder} is a link; the designer writes only folders of its own")
        (folder / MODULES_DIR).mkdir(parents=True, exist_ok=True)
        (folder / PARAMS_DIR).mkdir(exist_ok=True)
        for source in sorted(_MODULE_SOURCES.glob("*.py")):
            _write(folder / MODULES_DIR / source.name, source.read_text())
        for relative, text in files.items():
            _write(folder / relative, text)
        for stale in (folder / PARAMS_DIR).iterdir():
            if f"{PARAMS_DIR}/{stale.name}" not in files:
                stale.unlink() if not stale.is_dir() or stale.is_symlink() else shutil.rmtree(stale)
        return folder


def _write(path: Path, text: str) -> None:
    if path.is_symlink():
        path.unlink()  # never written through
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.replace(tmp, path)


def validate(folder: Path, workspace: Any) -> list[Problem]:
    """What submitting the saved YAML would refuse (an unregistered dataset, a missing
    script...), on the node it concerns; nothing when it loads."""
    from ..pipeline.yaml_spec import load_pipeline_file
    try:
        load_pipeline_file(folder / YAML_FILE, workspace)
    except ConfigError as e:
        text = str(e)
        match = re.search(r"field 'jobs\.([A-Za-z0-9_]+)(?:\.([^']*))?': (.*)", text, re.DOTALL)
        if match:
            return [Problem(node=match.group(1), field=match.group(2), message=match.group(3))]
        return [Problem(message=text.split(": ", 1)[-1] if text.startswith(str(folder)) else text)]
    return []
