"""Griffe extension for the API reference: runyard's docstrings hold doctest examples
(``>>> ...`` lines, not in an "Examples:" section), which Markdown would read as nested
quotes. Each run of example lines becomes a ``pycon`` code block, without the
``# doctest: +SKIP`` notes meant for the tests."""

from __future__ import annotations

import re
from typing import Any

import griffe

_FLAG = re.compile(r"\s*# doctest: [+-]\w+(?:,\s*[+-]\w+)*")


def fence_examples(text: str) -> str:
    lines, out, i = text.splitlines(), [], 0
    while i < len(lines):
        if not lines[i].lstrip().startswith(">>>"):
            out.append(lines[i])
            i += 1
            continue
        indent = lines[i][:len(lines[i]) - len(lines[i].lstrip())]
        block = []
        while i < len(lines) and lines[i].strip() and lines[i].startswith(indent):
            block.append(_FLAG.sub("", lines[i][len(indent):]))
            i += 1
        if out and out[-1].strip():
            out.append("")
        out += [f"{indent}```pycon", *(indent + line for line in block), f"{indent}```", ""]
    return "\n".join(out)


class DoctestExamples(griffe.Extension):
    def on_object(self, *, obj: Any, **kwargs: Any) -> None:
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_examples(obj.docstring.value)
