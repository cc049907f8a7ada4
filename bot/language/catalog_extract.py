"""Babel extractor for YAML data: every text a person reads in `surveys/*.yaml` and
`programmes/*.yaml` (help-line labels, programme names).

Registered in `babel.cfg`, so `pybabel extract` puts question texts, option labels, scale labels
and "why" explanations into `locales/messages.pot` beside the strings from the Python code.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import IO, Any

import yaml

TRANSLATABLE_KEYS = ("title", "text", "why", "min_label", "max_label", "name", "label")
Extracted = tuple[int, str, str, list[str]]


def _walk(node: yaml.Node, context: str) -> Iterator[Extracted]:
    if isinstance(node, yaml.MappingNode):
        node_id = next((value.value for key, value in node.value if key.value == "id"), None)
        where = f"{context}/{node_id}" if node_id else context
        for key, value in node.value:
            if (
                key.value in TRANSLATABLE_KEYS
                and isinstance(value, yaml.ScalarNode)
                and value.value
            ):
                yield value.start_mark.line + 1, "_", value.value, [f"{where}: {key.value}"]
            else:
                yield from _walk(value, where)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _walk(item, context)


def extract_yaml(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Mapping[str, Any]
) -> Iterator[Extracted]:
    root = yaml.compose(fileobj.read().decode("utf-8"))
    if root is not None:
        yield from _walk(root, "")
