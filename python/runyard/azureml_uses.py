"""Find the Azure ML SDK v1 (``azureml``) names a folder of scripts and notebooks uses, and
whether runyard's compatibility layer (compat/azureml-runyard) provides each one.

Support is read from the layer itself — its modules and their ``__all__`` — so this report
cannot drift from what ``import`` would do. Files are parsed with :mod:`ast`, never run;
notebooks contribute their code cells with IPython magics and shell lines blanked out. A file
that does not parse is reported and the scan goes on.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

from .errors import ConfigError

#: the module whose presence marks an ``azureml`` package as runyard's layer
_MARKER = "_runyard_compat.py"
#: folders never scanned: tools' and environments' own files
_SKIPPED_FOLDERS = {"__pycache__", "node_modules", "site-packages"}


@dataclass(frozen=True)
class AzuremlUse:
    """One use of an ``azureml`` name at one place."""

    file: str
    line: int
    #: the dotted name as the layer would resolve it, e.g. ``azureml.core.Workspace.from_config``
    name: str
    #: ``import``, ``from-import`` or ``attribute``
    kind: str
    supported: bool
    #: why a name is not supported (empty when it is)
    note: str = ""
    #: the notebook cell (1-based, counting every cell), or None in a .py file
    cell: int | None = None

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.cell is None else f"{self.file}[cell {self.cell}]:{self.line}"


@dataclass(frozen=True)
class Unreadable:
    """A file (or notebook cell) that could not be parsed, and why."""

    file: str
    error: str
    line: int | None = None
    cell: int | None = None


@dataclass
class AzuremlScan:
    """What :func:`scan_azureml_uses` found."""

    path: str
    files: int = 0
    uses: list[AzuremlUse] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)

    @property
    def unsupported(self) -> list[AzuremlUse]:
        return [u for u in self.uses if not u.supported]

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "files": self.files,
                "uses": [{**asdict(u), "where": u.where} for u in self.uses],
                "unsupported": len(self.unsupported),
                "unreadable": [asdict(u) for u in self.unreadable]}


def scan_azureml_uses(path: str | Path) -> AzuremlScan:
    """Every ``azureml`` import (and attribute use of what was imported) in PATH, a folder of
    ``.py`` scripts and ``.ipynb`` notebooks or one such file, each marked supported or not.
    Files are named relative to PATH when it is a folder.

    >>> scan = scan_azureml_uses("notebooks/")  # doctest: +SKIP
    >>> [u.where for u in scan.unsupported]  # doctest: +SKIP
    """
    root = Path(path)
    if not root.exists():
        raise ConfigError(f"migrate-azureml PATH {str(path)!r} does not exist: give a folder of .py and "
                          f".ipynb files, or one such file")
    if root.is_file() and root.suffix not in (".py", ".ipynb"):
        raise ConfigError(f"migrate-azureml PATH {str(path)!r} is neither a .py script nor an .ipynb notebook")
    layer = _Layer.find()
    scan = AzuremlScan(path=str(root))
    for file in _source_files(root):
        scan.files += 1
        shown = str(file.relative_to(root)) if root.is_dir() else str(root)
        for cell, source, offset_error in _code_of(file):
            if offset_error:
                scan.unreadable.append(Unreadable(shown, offset_error, cell=cell))
                continue
            try:
                tree = ast.parse(source, filename=shown)
            except SyntaxError as e:
                scan.unreadable.append(Unreadable(shown, f"does not parse: {e.msg}", line=e.lineno, cell=cell))
                continue
            for line, name, kind in _uses_in(tree):
                supported, note = layer.provides(name)
                scan.uses.append(AzuremlUse(shown, line, name, kind, supported, note, cell))
    return scan


def _source_files(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    for file in sorted(root.rglob("*")):
        parts = file.relative_to(root).parts
        if any(p.startswith(".") or p in _SKIPPED_FOLDERS for p in parts[:-1]):
            continue
        if file.suffix in (".py", ".ipynb") and file.is_file():
            yield file


def _code_of(file: Path) -> Iterator[tuple[int | None, str, str | None]]:
    """(cell, source, error) for a script (one piece, cell None) or each code cell of a notebook."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        yield None, "", f"cannot be read as UTF-8 text: {e}"
        return
    if file.suffix == ".py":
        yield None, text, None
        return
    try:
        cells = json.loads(text)["cells"]
    except (ValueError, KeyError, TypeError) as e:
        yield None, "", f"is not a notebook (JSON with 'cells'): {e}"
        return
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        yield number, _without_magics(source), None


def _without_magics(source: str) -> str:
    """IPython's ``%magic``, ``%%cell magic`` and ``!shell`` lines blanked, so line numbers stay."""
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):  # a cell magic: the whole cell is not Python
        return ""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines)


def _uses_in(tree: ast.AST) -> Iterator[tuple[int, str, str]]:
    """(line, dotted name, kind) of each azureml use, in source order."""
    bound: dict[str, str] = {}  # local name -> the azureml dotted name it stands for
    found: list[tuple[int, int, str, str]] = []
    inner: set[int] = set()  # attribute nodes inside a longer chain, reported by the longest
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_azureml(alias.name):
                    found.append((node.lineno, node.col_offset, alias.name, "import"))
                    if alias.asname:
                        bound[alias.asname] = alias.name
                    else:
                        bound[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and _is_azureml(node.module or ""):
            for alias in node.names:
                if alias.name == "*":
                    found.append((node.lineno, node.col_offset, node.module, "from-import"))
                    continue
                dotted = f"{node.module}.{alias.name}"
                found.append((node.lineno, node.col_offset, dotted, "from-import"))
                bound[alias.asname or alias.name] = dotted
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
            inner.add(id(node.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and id(node) not in inner:
            chain = _chain(node)
            if chain and chain[0] in bound:
                found.append((node.lineno, node.col_offset, ".".join([bound[chain[0]], *chain[1:]]), "attribute"))
    seen = set()
    for line, _, name, kind in sorted(found, key=lambda f: (f[0], f[1])):
        if (line, name) not in seen:
            seen.add((line, name))
            yield line, name, kind


def _chain(node: ast.Attribute) -> list[str] | None:
    """``a.b.c`` as ["a", "b", "c"]; None when the chain does not start at a plain name."""
    names = []
    current: ast.AST = node
    while isinstance(current, ast.Attribute):
        names.append(current.attr)
        current = current.value
    if not isinstance(current, ast.Name):
        return None
    return [current.id, *reversed(names)]


def _is_azureml(module: str) -> bool:
    return module == "azureml" or module.startswith("azureml.")


class _Layer:
    """runyard's ``azureml`` package, asked which names it provides."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._answers: dict[str, tuple[bool, str]] = {}

    @classmethod
    def find(cls) -> "_Layer":
        spec = importlib.util.find_spec("azureml")  # finds without running azureml/__init__.py
        folders = list(spec.submodule_search_locations or []) if spec else []
        for folder in map(Path, folders):
            if (folder / _MARKER).is_file():
                return cls(folder)
        if folders:
            raise ConfigError(f"the 'azureml' package in this Python ({folders[0]}) is not runyard's compatibility "
                              f"layer (Microsoft's SDK?): run migrate-azureml from a Python with "
                              f"azureml-runyard instead (pip install ./compat/azureml-runyard)")
        raise ConfigError("runyard's Azure ML compatibility layer is not installed in this Python, so what it "
                          "supports cannot be read: pip install ./compat/azureml-runyard (from runyard's "
                          "repository), then run migrate-azureml again")

    def provides(self, dotted: str) -> tuple[bool, str]:
        """(supported, why not) for a dotted name: its longest module prefix must exist in the
        layer, and each further part must be exported by that module (or be an attribute of it)."""
        if dotted not in self._answers:
            self._answers[dotted] = self._resolve(dotted)
        return self._answers[dotted]

    def _resolve(self, dotted: str) -> tuple[bool, str]:
        parts = dotted.split(".")
        module_parts = 1
        while module_parts < len(parts) and self._is_module(parts[:module_parts + 1]):
            module_parts += 1
        module_name = ".".join(parts[:module_parts])
        rest = parts[module_parts:]
        if not rest:
            return True, ""
        try:
            module = importlib.import_module(module_name)
        except ImportError as e:  # a module of the layer that cannot load in this Python says why
            return False, f"{module_name} does not import here: {e}"
        exported = getattr(module, "__all__", None)
        if exported is not None and rest[0] not in exported:
            return False, f"runyard's layer has no {module_name}.{rest[0]}"
        value: Any = getattr(module, rest[0], None)
        if value is None and exported is None:
            return False, f"runyard's layer has no {module_name}.{rest[0]}"
        for depth, attribute in enumerate(rest[1:], start=1):
            try:
                value = getattr(value, attribute)
            except AttributeError:
                owner = ".".join([module_name, *rest[:depth]])
                return False, f"{owner} has no attribute {attribute!r} in runyard"
        return True, ""

    def _is_module(self, parts: list[str]) -> bool:
        """Whether azureml.<parts[1:]> is a module or package of the layer (read from its files)."""
        if len(parts) == 1:
            return True
        base = self.folder.joinpath(*parts[1:])
        return (base / "__init__.py").is_file() or base.with_suffix(".py").is_file()
