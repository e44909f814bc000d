"""Line numbers of YAML documents, so that a study designer is told where a problem is.

PyYAML composes a document into nodes that carry their position (``start_mark``); a
document path such as ``("assessments", 3, "window")`` is followed through those nodes to
the deepest one that exists. Aliases (``*day7``) resolve to the node of their anchor.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml


class MarkedYaml:
    """One YAML file: its data and the line of any document path in it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        text = path.read_text(encoding="utf-8")
        self.data: Any = yaml.safe_load(text)
        self._root = yaml.compose(text, Loader=yaml.SafeLoader)

    def line(self, where: Sequence[str | int]) -> int | None:
        """1-based line of the deepest node on ``where`` (None for an empty document)."""
        node = self._root
        if node is None:
            return None
        line = node.start_mark.line + 1
        for step in where:
            child = _child(node, step)
            if child is None:
                break
            key_line, node = child
            line = key_line
        return line


def _child(node: yaml.Node, step: str | int) -> tuple[int, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == str(step):
                return key.start_mark.line + 1, value
    elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(
        node.value
    ):
        item = node.value[step]
        return item.start_mark.line + 1, item
    return None


def yaml_error_line(exc: yaml.YAMLError) -> int | None:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return mark.line + 1 if mark is not None else None
