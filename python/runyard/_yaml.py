"""YAML files read with the line of every field kept, so errors can point at them."""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any, Sequence

import pydantic
import yaml

from .errors import ConfigError

_MISSING = object()


class YamlDocument:
    """A parsed YAML file that can say on which line a field path sits."""

    def __init__(self, path: Path, data: Any, root: yaml.Node | None):
        self.path = path
        self.data = data
        self._root = root

    def line_of(self, loc: Sequence[Any]) -> int | None:
        node = self._root
        line = node.start_mark.line + 1 if node is not None else None
        for key in loc:
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    if k.value == str(key):
                        line, node = k.start_mark.line + 1, v
                        break
                else:
                    return line
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
                node = node.value[key]
                line = node.start_mark.line + 1
            else:
                return line
        return line

    def error(self, loc: Sequence[Any], message: str) -> ConfigError:
        line = self.line_of(loc)
        field = ".".join(str(p) for p in loc)
        where = ", ".join(filter(None, [f"line {line}" if line else "", f"field '{field}'" if field else ""]))
        return ConfigError(f"{self.path}: {where}: {message}" if where else f"{self.path}: {message}")

    def validation_error(self, e: pydantic.ValidationError, prefix: Sequence[Any] = (),
                         union_tag: str | None = None, data: Any = _MISSING) -> ConfigError:
        """``union_tag``: the discriminator value pydantic puts first in each error's location
        when validating a discriminated union; it is no field of the file, so it is dropped.
        ``data`` (what was validated): each location is read against it, which drops the tags
        of discriminated unions nested anywhere in it (see ``_located``)."""
        problems = []
        for loc, message, value in _problems(e, data):
            if union_tag is not None and loc[:1] == (union_tag,):
                loc = loc[1:]
            loc = (*prefix, *loc)
            line = self.line_of(loc)
            field = ".".join(str(p) for p in loc) or "(top level)"
            at = f"line {line}, " if line else ""
            problems.append(f"{at}field '{field}': {message}{_shown(value)}")
        return ConfigError(f"{self.path}: " + "; ".join(problems))


def refuse_unknown_fields(doc: YamlDocument, data: Any, model: type[pydantic.BaseModel],
                          loc: Sequence[Any] = ()) -> None:
    """Raise the file's error for the first key of ``data`` (at ``loc``) that is no field of
    ``model``, or of the models its fields hold (``task: {...}``, ``outputs: {name: {...}}``),
    listing the fields there are; pydantic's own error says only that the key is not allowed."""
    if not isinstance(data, dict):
        return
    fields = {(f.alias or name): f for name, f in model.model_fields.items()}
    for key, value in data.items():
        if key not in fields:
            if model.model_config.get("extra") == "forbid":
                raise doc.error([*loc, key], f"unknown field {key!r}; valid fields here: {', '.join(fields)}")
            continue
        annotation = fields[key].annotation
        for inner in _models_in(annotation):
            refuse_unknown_fields(doc, value, inner, [*loc, key])
        if typing.get_origin(annotation) is dict and isinstance(value, dict):
            for item_model in _models_in(typing.get_args(annotation)[1]):
                for item_key, item in value.items():
                    refuse_unknown_fields(doc, item, item_model, [*loc, key, item_key])


def _models_in(annotation: Any) -> list[type[pydantic.BaseModel]]:
    """The models an annotation names directly or as a member of a union (``Task | None``)."""
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return [annotation]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
    return []


def _shown(value: Any) -> str:
    return "" if isinstance(value, (dict, list)) or value is _MISSING else f" (got {value!r})"


# What pydantic appends to a location to say which member of a union it tried.
_UNION_MEMBER = ("str", "int", "float", "bool", "none", "list[", "dict[", "function-", "literal[",
                 "is-instance[")


def _member_kind(member: str) -> str:
    """``"int"``, ``"list[str]"`` -> ``"list"``; an instance of a class -> the class's name."""
    if member.startswith("is-instance["):
        return member[len("is-instance["):].rstrip("]")
    return member.split("[")[0]


def _problems(e: pydantic.ValidationError, data: Any = _MISSING) -> list[tuple[tuple[Any, ...], str, Any]]:
    """(field path, message, bad value) per field: a value that fits no member of a union
    is one problem ("expected one of: ...") at the field, not one per member. With ``data``
    (what was validated) each path is read against it (``_located``)."""
    grouped: dict[tuple[Any, ...], list[tuple[str | None, str, Any]]] = {}
    for err in e.errors():
        loc = tuple(err["loc"]) if data is _MISSING else _located(tuple(err["loc"]), data)
        member = None
        if loc and isinstance(loc[-1], str) and (
                loc[-1].startswith(_UNION_MEMBER) or loc[-1][:1].isupper()) and len(e.errors()) > 1:
            member, loc = loc[-1], loc[:-1]
        grouped.setdefault(loc, []).append((member, err["msg"], err.get("input", _MISSING)))
    problems = []
    for loc, errs in grouped.items():
        members = [m for m, _, _ in errs if m]
        if len(errs) > 1 and len(members) == len(errs):
            kinds = ", ".join(dict.fromkeys(_member_kind(m) for m in members))
            problems.append((loc, f"expected one of: {kinds}", errs[0][2]))
        else:
            problems.extend((loc + ((m,) if m else ()), msg, value) for m, msg, value in errs)
    return problems


def _located(loc: tuple[Any, ...], data: Any) -> tuple[Any, ...]:
    """``loc`` without the parts pydantic adds that are no key of ``data``: the tag of a
    discriminated union (``sources.0.local.base`` is ``sources.0.base``) or the member of a
    union tried, except at the end, where a missing field or a union member is named."""
    kept: list[Any] = []
    node = data
    for index, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif index < len(loc) - 1:
            continue
        kept.append(part)
    return tuple(kept)


def load(path: str | Path, *, what: str = "file") -> YamlDocument:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{what} {str(path)!r} does not exist")
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise ConfigError(f"{path}{where}: invalid YAML: {problem}") from e
    return YamlDocument(path, data, root)


def validation_message(e: pydantic.ValidationError, what: str, data: Any = _MISSING) -> str:
    """One line per problem, naming the field path and the bad value; give ``data`` (what was
    validated) to name paths as keys of it, without the tags of discriminated unions."""
    problems = [f"field '{'.'.join(str(p) for p in loc) or '(top level)'}': {message}{_shown(value)}"
                for loc, message, value in _problems(e, data)]
    return f"{what}: " + "; ".join(problems)
