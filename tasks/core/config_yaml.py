"""Read a YAML config file defensively: bounded size, UTF-8 only, one mapping, no aliases, no duplicates.

PyYAML's ``safe_load`` silently keeps the last of two duplicate keys and expands aliases without
bound (the "billion laughs"); both are refused here, with the file, the key path and the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from tasks.core.errors import ConfigProblem, InvalidConfig

#: Larger files are refused before parsing: a pipeline config is a few KiB.
MAX_CONFIG_BYTES = 1024 * 1024
#: Deeper nesting is refused: the composer recurses once per level.
MAX_DEPTH = 64

_STR_TAG = "tag:yaml.org,2002:str"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_PLAIN_SEGMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def format_path(segments: Sequence[str | int]) -> str:
    """Render key-path segments as ``a.b[0]["x.y"]``: names dotted, indexes and odd keys bracketed."""
    text = ""
    for segment in segments:
        if isinstance(segment, int):
            text += f"[{segment}]"
        elif _PLAIN_SEGMENT.match(segment):
            text += f".{segment}" if text else segment
        else:
            text += '["' + segment.replace("\\", "\\\\").replace('"', '\\"') + '"]'
    return text


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases and deep nesting, and keeps timestamps as plain strings."""

    # Dates stay strings: a config value's type should not depend on how a string happens to look.
    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None,
                None,
                f"YAML aliases (*{event.anchor}) are not allowed in a config file; write the value out",
                event.start_mark,
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nesting deeper than {MAX_DEPTH} levels", self.peek_event().start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def decode_config_bytes(data: bytes, source: str) -> str:
    """Check the size and decode UTF-8 (a BOM is allowed).

    :raises InvalidConfig: if the file is larger than :data:`MAX_CONFIG_BYTES` or not UTF-8.
    """
    if len(data) > MAX_CONFIG_BYTES:
        raise _one(source, f"file is {len(data)} bytes; a config file may be at most {MAX_CONFIG_BYTES} bytes")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _one(source, f"file is not UTF-8: invalid byte at offset {exc.start}; save it as UTF-8") from None


def load_yaml_mapping(text: str, source: str) -> dict[str, Any]:
    """Parse ``text`` as one YAML document whose top level is a mapping with string keys.

    :raises InvalidConfig: on YAML syntax errors, aliases, duplicate or non-string keys, or a
        top level that is not a mapping.
    """
    if len(text.encode("utf-8", errors="surrogatepass")) > MAX_CONFIG_BYTES:
        raise _one(source, f"text is larger than {MAX_CONFIG_BYTES} bytes; a config file is a few KiB")
    try:
        loader = _StrictLoader(text)
    except yaml.YAMLError as exc:
        # The reader checks every character up front: a NUL or another control character fails here.
        raise _one(source, f"could not parse YAML: {exc}") from None
    try:
        node = loader.get_single_node()
        if node is None:
            raise _one(source, "file is empty; expected a mapping with at least `version`, `pipeline`, `domains`")
        problems = [ConfigProblem(source, path, message) for path, message in _structure_problems(node, [])]
        if problems:
            raise InvalidConfig.from_problems(source, problems)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        raise _one(source, _describe_yaml_error(exc)) from None
    except yaml.YAMLError as exc:
        raise _one(source, f"could not parse YAML: {exc}") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise _one(source, f"expected a mapping at the top level, got {type(data).__name__} {short_repr(data)}")
    return data


def _structure_problems(node: Node, path: list[str | int]) -> Iterator[tuple[str, str]]:
    """Yield (key path, message) for duplicate keys, non-string keys and merge keys."""
    if isinstance(node, MappingNode):
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, ScalarNode) or key_node.tag != _STR_TAG:
                shown = key_node.value if isinstance(key_node, ScalarNode) else f"a {key_node.id}"
                yield (
                    format_path(path),
                    f"line {line}: keys must be strings, got {shown!r} ({key_node.tag.rsplit(':', 1)[-1]}); "
                    "quote the key or remove it",
                )
                continue
            key = key_node.value
            if key in first_line:
                yield (
                    format_path([*path, key]),
                    f"line {line}: duplicate key (first at line {first_line[key]}); keys must be unique",
                )
            else:
                first_line[key] = line
            yield from _structure_problems(value_node, [*path, key])
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            yield from _structure_problems(item, [*path, _entry_name(item) or index])


def _entry_name(node: Node) -> str | None:
    """The ``name:`` of a list entry, so paths read ``domains.staging`` rather than ``domains[1]``."""
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == "name" and isinstance(value_node, ScalarNode) and value_node.value:
                return str(value_node.value)
    return None


def _describe_yaml_error(exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    problem = exc.problem or "invalid YAML"
    context = f" ({exc.context})" if exc.context else ""
    return f"{where}could not parse YAML: {problem}{context}"


def short_repr(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _one(source: str, message: str) -> InvalidConfig:
    return InvalidConfig.from_problems(source, [ConfigProblem(source, "", message)])
