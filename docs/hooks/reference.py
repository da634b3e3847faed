"""MkDocs hook: the reference pages that are generated from the code when the site is built.

A page asks for a generated part with a marker line of its own:

- ``<!-- generated: yaml-schemas -->``: the YAML files runyard reads (command job, sweep
  job, AutoML job, parallel job, pipeline, environment), each a table per object from its pydantic model's JSON Schema, with an
  example file of the repository;
- ``<!-- generated: rest-api -->``: every route of ``runyard server`` from its OpenAPI
  document, grouped by the path's first part, with parameters, body and answers.

The JSON Schemas and the OpenAPI document are also published next to the pages
(``reference/schemas/*.json``, ``reference/openapi.json``). A marker this hook does not know
fails the build, as does a model that no longer produces a schema.
"""

from __future__ import annotations

import json
import re
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"^<!-- generated: ([a-z-]+) -->$", re.MULTILINE)

#: (file name, title, what it is, "module:Model", example file of the repository)
YAML_FILES = [
    ("command-job", "Command job file", "`runyard job submit -f job.yml`, `load_job_file()`",
     "runyard.config:CommandJob", "examples/sklearn-diabetes/job.yml"),
    ("sweep-job", "Sweep job file", "`runyard job submit -f sweep.yml`, `load_job_file()`; its trials run "
     "as child runs of the sweep", "runyard.hyperdrive.yaml_spec:SweepJob", "examples/sklearn-sweep/sweep.yml"),
    ("automl-job", "AutoML job file", "`runyard job submit -f automl.yml`, `load_job_file()`; its iterations run "
     "as child runs of the AutoML run", "runyard.automl.yaml_spec:AutoMLJob",
     "examples/automl-classification/automl.yml"),
    ("parallel-job", "Parallel job file", "`runyard job submit -f parallel.yml`, `load_job_file()`; a "
     "`ParallelRunStep` run on its own (see [Parallel runs](../how-to/parallel-run.md#yaml-type-parallel))",
     "runyard.pipeline.parallel_yaml:ParallelJob", None),
    ("pipeline-job", "Pipeline file", "`runyard pipeline submit -f pipeline.yml`, `load_pipeline()`; "
     "each entry of `jobs:` is a command step or a parallel step", "runyard.pipeline.yaml_spec:PipelineJobSpec",
     "examples/pipeline-diabetes/pipeline.yml"),
    ("pipeline-step", "Pipeline step (`jobs.<name>`)", "one entry of a pipeline file's `jobs:` with "
     "`type: command` (the default)", "runyard.pipeline.yaml_spec:CommandStepSpec", None),
    ("pipeline-parallel-step", "Pipeline parallel step (`jobs.<name>` with `type: parallel`)",
     "one entry of a pipeline file's `jobs:` with `type: parallel`: a `ParallelRunStep`",
     "runyard.pipeline.parallel_yaml:ParallelStepSpec", None),
    ("environment", "Environment file", "`--env-file`, `Environment.from_file()`, "
     "`Environment.load_from_directory()` (what `save_to_directory` writes)",
     "runyard.environment:Environment", None),
]


def _model(path: str) -> Any:
    import importlib
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


@cache
def json_schemas() -> dict[str, dict[str, Any]]:
    return {name: _model(model).model_json_schema(by_alias=True) for name, _, _, model, _ in YAML_FILES}


@cache
def openapi() -> dict[str, Any]:
    from runyard.studio.server import create_app
    with tempfile.TemporaryDirectory(prefix="runyard-docs-") as folder:
        app = create_app(f"sqlite:///{folder}/ws.db", Path(folder) / "artifacts")
        return app.app.openapi()  # the FastAPI app inside the token guard


# -- JSON Schema as tables ------------------------------------------------------------
def _type_of(schema: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{_anchor(name)})" if name in defs else name
    if "anyOf" in schema or "oneOf" in schema:
        options = [o for o in schema.get("anyOf") or schema["oneOf"] if o.get("type") != "null"]
        text = " or ".join(_type_of(o, defs) for o in options)
        return text + (" or null" if len(options) < len(schema.get("anyOf") or schema["oneOf"]) else "")
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if "enum" in schema:
        return " \\| ".join(f"`{json.dumps(v)}`" for v in schema["enum"])
    kind = schema.get("type")
    if schema.get("format") == "binary":
        return "the file's bytes"
    if kind == "array":
        return f"list of {_type_of(schema.get('items', {}), defs)}"
    if kind == "object":
        extra = schema.get("additionalProperties")
        return f"map of {_type_of(extra, defs)}" if isinstance(extra, dict) and extra else "map"
    return kind or "any"


def _constraints(schema: dict[str, Any]) -> str:
    parts = []
    for key, text in (("minimum", "≥ {}"), ("exclusiveMinimum", "> {}"), ("maximum", "≤ {}"),
                      ("minLength", "at least {} characters"), ("pattern", "matches `{}`")):
        for option in [schema, *schema.get("anyOf", [])]:
            if key in option:
                parts.append(text.format(option[key]))
    return ", ".join(parts)


def _anchor(name: str) -> str:
    return "schema-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _object_table(name: str, schema: dict[str, Any], defs: dict[str, Any]) -> list[str]:
    lines = [f'### {name} {{#{_anchor(name)}}}', ""]
    if schema.get("description"):
        lines += [" ".join(schema["description"].replace("``", "`").split()), ""]
    properties = schema.get("properties", {})
    if not properties:
        return lines + ["Any keys.", ""]
    required = set(schema.get("required", []))
    lines += ["| Key | Type | Default | Checks |", "| --- | --- | --- | --- |"]
    for key, prop in properties.items():
        default = "required" if key in required else (
            f"`{json.dumps(prop['default'])}`" if "default" in prop else "")
        lines.append(f"| `{key}` | {_type_of(prop, defs)} | {default} | {_constraints(prop)} |")
    closed = schema.get("additionalProperties") is False
    lines += ["", "Other keys are an error." if closed else "", ""]
    return lines


def yaml_schemas_markdown() -> str:
    out = []
    for name, title, used_by, model, example in YAML_FILES:
        schema = json_schemas()[name]
        defs = schema.get("$defs", {})
        out += [f"## {title}", "", f"Read by {used_by}. JSON Schema: "
                f"[schemas/{name}.schema.json](schemas/{name}.schema.json). "
                f"Generated from `{model.replace(':', '.')}`.", ""]
        if example:
            out += [f"`{example}`:", "", "```yaml", (ROOT / example).read_text().rstrip(), "```", ""]
        out += _object_table(title.split(" (")[0] if name != "pipeline-step" else "Pipeline step", schema, defs)
        for def_name, def_schema in defs.items():
            out += _object_table(def_name, def_schema, defs)
    return "\n".join(out)


# -- OpenAPI as a route list --------------------------------------------------------
def rest_api_markdown() -> str:
    document = openapi()
    components = document.get("components", {}).get("schemas", {})
    groups: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, operations in document["paths"].items():
        part = path.removeprefix("/api/v1/").split("/")[0] or "/"
        for method, operation in operations.items():
            groups.setdefault(part, []).append((method.upper(), path, operation))
    out = [f"{len([o for g in groups.values() for o in g])} operations. "
           "The document itself: [openapi.json](openapi.json) (also served at `/openapi.json`).", ""]
    for part, operations in groups.items():
        out += [f"## `{part}`", ""]
        for method, path, operation in operations:
            out += [f"### `{method} {path}`", ""]
            if operation.get("description") or operation.get("summary"):
                text = operation.get("description") or operation["summary"]
                out += [" ".join(text.replace("``", "`").split()), ""]
            params = operation.get("parameters", [])
            if params:
                out += ["| Parameter | In | Type | Required |", "| --- | --- | --- | --- |"]
                for p in params:
                    out.append(f"| `{p['name']}` | {p['in']} | {_type_of(p.get('schema', {}), components)} | "
                               f"{'yes' if p.get('required') else 'no'} |")
                out.append("")
            body = operation.get("requestBody", {}).get("content", {})
            for media, content in body.items():
                out += [f"Body ({media}): {_type_of(content.get('schema', {}), components)}", ""]
            answers = ", ".join(f"{code} {a.get('description', '')}".strip()
                                for code, a in operation.get("responses", {}).items())
            out += [f"Answers: {answers}", ""]
    out += ["## Schemas", ""]
    for name, schema in components.items():
        out += _object_table(name, schema, components)
    return "\n".join(out)


GENERATORS = {"yaml-schemas": yaml_schemas_markdown, "rest-api": rest_api_markdown}


# -- the hook's events ------------------------------------------------------------------
def on_config(config: Any) -> Any:
    """Every command group registered on ``runyard.cli.main.cli`` before mkdocs-click reads it."""
    from runyard.cli.main import load_commands
    load_commands()
    return config


def on_files(files: Files, config: Any) -> Files:
    for name in json_schemas():
        files.append(File.generated(config, f"reference/schemas/{name}.schema.json",
                                    content=json.dumps(json_schemas()[name], indent=2)))
    files.append(File.generated(config, "reference/openapi.json", content=json.dumps(openapi(), indent=2)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name not in GENERATORS:
            raise PluginError(f"{page.file.src_uri}: unknown generated part {name!r}; "
                              f"known: {', '.join(sorted(GENERATORS))}")
        return GENERATORS[name]()
    return MARKER.sub(replace, markdown)

