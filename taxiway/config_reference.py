"""The taxiway.yaml key reference in ``docs/configuration.md``, generated from the JSON schema.

The schema (``tasks.core.config.export_json_schema``, committed as ``taxiway.schema.json``) is the one
source of truth for keys, types, defaults and descriptions; the prose around the reference stays
hand-written. The generated part sits between two markers and is rewritten in place::

    python -m taxiway.config_reference           # rewrite docs/configuration.md
    python -m taxiway.config_reference --check   # exit 1 if it is out of date (a unit test runs this)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

BEGIN = "<!-- BEGIN GENERATED: taxiway.yaml reference (python -m taxiway.config_reference) -->"
END = "<!-- END GENERATED: taxiway.yaml reference -->"
DOCUMENT = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
ROOT = "taxiway.yaml"
#: Constraints worth a reader's eye, in the order shown.
_RULES = ("const", "enum", "pattern", "minLength", "maxLength", "minimum", "exclusiveMinimum", "maximum",
          "minItems", "maxItems", "minProperties")  # fmt: skip


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[1]


def _anchor(name: str) -> str:
    return name.lower()


def describe_type(node: Mapping[str, Any]) -> str:
    """A short human type: ``string``, ``list of [DomainSpec](#domainspec)``, ``integer or null``..."""
    if "$ref" in node:
        name = _ref_name(node["$ref"])
        return "any JSON value" if name == "JsonValue" else f"[{name}](#{_anchor(name)})"
    for key in ("anyOf", "oneOf"):
        if key in node:
            return " or ".join(dict.fromkeys(describe_type(option) for option in node[key]))
    if "const" in node:
        return f"`{json.dumps(node['const'])}`"
    kind = node.get("type")
    if kind == "array":
        return f"list of {describe_type(node.get('items', {}))}"
    if kind == "object":
        values = node.get("additionalProperties")
        if isinstance(values, Mapping):
            return f"mapping of name to {describe_type(values)}"
        if "patternProperties" in node:
            [values] = node["patternProperties"].values()
            return f"mapping of name to {describe_type(values)}"
        return "mapping"
    if isinstance(kind, list):
        return " or ".join(kind)
    return str(kind or "any")


def _rules(node: Mapping[str, Any]) -> str:
    found: list[str] = []
    for option in [node, *node.get("anyOf", []), node.get("items", {})]:
        for key in _RULES:
            if key in option and key != "const":
                value = option[key]
                text = f"`{value}`" if key == "pattern" else json.dumps(value)
                found.append(f"{key} {text}")
    return "; ".join(dict.fromkeys(found))


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def _table(definition: Mapping[str, Any]) -> list[str]:
    required = set(definition.get("required", []))
    lines = ["| key | type | required | default | description | rules |", "| --- | --- | --- | --- | --- | --- |"]
    for key, node in definition.get("properties", {}).items():
        default = f"`{json.dumps(node['default'])}`" if "default" in node else ""
        lines.append(
            f"| `{key}` | {_cell(describe_type(node))} | {'yes' if key in required else ''} | {_cell(default)} "
            f"| {_cell(node.get('description', ''))} | {_cell(_rules(node))} |"
        )
    return lines


def _refs(node: Any) -> list[str]:
    """Definitions referenced anywhere under ``node``, in document order."""
    if isinstance(node, Mapping):
        found = [_ref_name(node["$ref"])] if "$ref" in node else []
        for value in node.values():
            found += _refs(value)
        return found
    if isinstance(node, list):
        return [name for item in node for name in _refs(item)]
    return []


def render_reference(schema: Mapping[str, Any]) -> str:
    """The Markdown reference: the top-level keys, then every object they reach, breadth first."""
    definitions = schema.get("$defs", {})
    sections = [f"### `{ROOT}` (top level)", "", _cell(schema.get("description", "")), "", *_table(schema)]
    seen: set[str] = {"JsonValue"}
    queue = deque(_refs(schema.get("properties", {})))
    while queue:
        name = queue.popleft()
        if name in seen or name not in definitions:
            continue
        seen.add(name)
        definition = definitions[name]
        sections += ["", f"### {name}", "", _cell(definition.get("description", "")), ""]
        sections += _table(definition) if "properties" in definition else [f"Type: {describe_type(definition)}."]
        queue.extend(_refs(definition.get("properties", definition)))
    return "\n".join(sections).replace("\n\n\n", "\n\n") + "\n"


def update_document(text: str, reference: str) -> str:
    """``text`` with the part between the markers replaced by ``reference`` (markers appended if missing)."""
    block = f"{BEGIN}\n\n{reference}\n{END}"
    if BEGIN in text and END in text:
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END)
        return head + block + tail
    return text.rstrip("\n") + "\n\n## Reference: every key\n\nGenerated from the JSON schema.\n\n" + block + "\n"


def main(argv: list[str] | None = None) -> int:
    """Rewrite (or with ``--check`` verify) the generated reference in ``docs/configuration.md``."""
    from tasks.core.config import export_json_schema  # pydantic models: only when run

    parser = argparse.ArgumentParser(prog="python -m taxiway.config_reference", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the document is out of date")
    parser.add_argument("--document", type=Path, default=DOCUMENT)
    args = parser.parse_args(argv)
    current = args.document.read_text()
    wanted = update_document(current, render_reference(export_json_schema()))
    if args.check:
        if current != wanted:
            print(f"{args.document} is out of date: run `python -m taxiway.config_reference`", file=sys.stderr)
            return 1
        return 0
    args.document.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
