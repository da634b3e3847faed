"""YAML files read with the line of every field kept, so errors can point at them."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import pydantic
import yaml

from .errors import ConfigError


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
        where = f"{self.path}" + (f", line {line}" if line else "")
        field = ".".join(str(p) for p in loc)
        return ConfigError(f"{where}: field '{field}': {message}" if field else f"{where}: {message}")

    def validation_error(self, e: pydantic.ValidationError, prefix: Sequence[Any] = (),
                         union_tag: str | None = None) -> ConfigError:
        """``union_tag``: the discriminator value pydantic puts first in each error's location
        when validating a discriminated union; it is no field of the file, so it is dropped."""
        problems = []
        for err in e.errors():
            err_loc = err["loc"]
            if union_tag is not None and err_loc[:1] == (union_tag,):
                err_loc = err_loc[1:]
            loc = [p for p in (*prefix, *err_loc) if not (isinstance(p, str) and "[" in p)]
            line = self.line_of(loc)
            field = ".".join(str(p) for p in loc) or "(top level)"
            value = err.get("input")
            shown = "" if isinstance(value, (dict, list)) else f" (got {value!r})"
            at = f"line {line}, " if line else ""
            problems.append(f"{at}field '{field}': {err['msg']}{shown}")
        return ConfigError(f"{self.path}: " + "; ".join(problems))


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


def validation_message(e: pydantic.ValidationError, what: str) -> str:
    """One line per problem, naming the field path and the bad value."""
    problems = []
    for err in e.errors():
        field = ".".join(str(p) for p in err["loc"]) or "(top level)"
        value = err.get("input")
        shown = "" if isinstance(value, (dict, list)) else f" (got {value!r})"
        problems.append(f"field '{field}': {err['msg']}{shown}")
    return f"{what}: " + "; ".join(problems)
