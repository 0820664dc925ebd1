"""YAML with line numbers: the parsed data plus the line of every mapping key and list item.

Validation errors name a path like `sessions[2].at`; `line_of` finds the line that path (or its
nearest ancestor) was written on, so a trainer is told where to look in their file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]
_PART_RE = re.compile(r"[^.\[\]]+|\[(\d+)\]")


class YamlSyntaxError(ValueError):
    """The text is not YAML at all; `line` is 1-based."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class LocatedYaml:
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int:
        """The line of `path`, or of its nearest ancestor that has one (1 at worst)."""
        for end in range(len(path), -1, -1):
            found = self.lines.get(path[:end])
            if found is not None:
                return found
        return 1


def load(text: str) -> LocatedYaml:
    """Parse YAML safely, remembering where each key and list item was written."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlSyntaxError(f"{e.problem or e}", line) from None
    located = LocatedYaml(data)
    if node is not None:
        _walk(node, (), located.lines)
    return located


def _walk(node: yaml.Node, path: Path, lines: dict[Path, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value)
            lines[(*path, key)] = key_node.start_mark.line + 1
            _walk(value_node, (*path, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), lines)


def parse_path(text: str) -> Path:
    """`sessions[2].at` or `sessions.2.at` -> ("sessions", 2, "at")."""
    parts: list[str | int] = []
    for match in _PART_RE.finditer(text):
        token = match.group(1) if match.group(1) is not None else match.group(0)
        parts.append(int(token) if token.isdigit() else token)
    return tuple(parts)


def show_path(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out
