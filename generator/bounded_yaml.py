"""A YAML SafeLoader with bounds: depth, expanded size (aliases counted in full), no recursion.

`safe_load` refuses to build objects, but not to build big or deep ones: 285 bytes of nested
aliases expand to hundreds of megabytes once written out as JSON, a self-referencing alias
makes a structure no JSON can hold, and 5,000 nested brackets exhaust Python's stack. The
loader counts while it composes the node graph, before anything is constructed.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

FLOW_TOKEN_RE = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'[^']*'|[\[\]{}]")


class LimitExceeded(Exception):
    """The YAML would nest too deep, expand too far, or refer to itself."""


class BoundedLoader(yaml.SafeLoader):
    """SafeLoader that gives up past `max_depth` nesting or `max_expanded` units of output.

    A node's weight is what it would cost written out: a scalar its length plus one, a
    collection one plus its children's weights. An alias weighs what its anchor weighs, so
    repeated aliases add up as their expansion would.
    """

    def __init__(self, stream: str, max_depth: int, max_expanded: int) -> None:
        super().__init__(stream)
        self.max_depth = max_depth
        self.max_expanded = max_expanded
        self._depth = 0
        self._weights: dict[int, int] = {}

    def compose_node(self, parent: Any, index: Any) -> Any:
        """Compose one node as SafeLoader does, then weigh it; refuse what is out of bounds."""
        if self.check_event(yaml.AliasEvent):
            anchor = self.peek_event().anchor
            target = self.anchors.get(anchor)
            if target is not None and id(target) not in self._weights:
                raise LimitExceeded(f"alias *{anchor} refers to a value that contains it")
        self._depth += 1
        if self._depth > self.max_depth:
            raise LimitExceeded(f"nests deeper than {self.max_depth} levels")
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        weight = self._weights.get(id(node)) or self._weigh(node)
        if weight > self.max_expanded:
            raise LimitExceeded(
                f"would expand to more than {self.max_expanded} characters (aliases included)"
            )
        self._weights[id(node)] = weight
        return node

    def _weigh(self, node: yaml.Node) -> int:
        if isinstance(node, yaml.ScalarNode):
            return len(node.value) + 1
        if isinstance(node, yaml.SequenceNode):
            return 1 + sum(self._weights.get(id(child), 1) for child in node.value)
        return 1 + sum(
            self._weights.get(id(key), 1) + self._weights.get(id(value), 1)
            for key, value in node.value
        )


def flow_depth(source: str) -> int:
    """How deep `[` and `{` nest outside quotes: checked before PyYAML sees the text.

    PyYAML's scanner keeps a possible key per open bracket and walks them all for every
    token, so 4,000 nested brackets take it about a second before any depth limit in the
    composer could stop it. Brackets in comments count too: a harmless over-estimate.
    """
    depth = deepest = 0
    for token in FLOW_TOKEN_RE.findall(source):
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth = max(0, depth - 1)
    return deepest
