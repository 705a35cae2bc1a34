"""docs/configuration.md's key reference is generated from the taxiway.yaml schema and kept up to date."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.core.config import export_json_schema
from taxiway.config_reference import BEGIN, DOCUMENT, END, describe_type, main, render_reference, update_document

pytestmark = pytest.mark.unit


def test_the_committed_reference_matches_the_schema() -> None:
    assert main(["--check"]) == 0, "docs/configuration.md is stale: run `python -m taxiway.config_reference`"


def test_every_key_of_the_schema_is_in_the_document() -> None:
    schema = export_json_schema()
    text = DOCUMENT.read_text()
    keys = list(schema["properties"]) + [key for d in schema["$defs"].values() for key in d.get("properties", {})]
    missing = [key for key in keys if f"| `{key}` |" not in text]
    assert not missing


SCHEMA = {
    "description": "Top.",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "description": "The name.", "maxLength": 9},
        "items": {"type": "array", "items": {"$ref": "#/$defs/Item"}, "default": []},
    },
    "$defs": {"Item": {"description": "An item.", "properties": {"size": {"anyOf": [{"type": "integer"},
                                                                                    {"type": "null"}]}}}},
}  # fmt: skip


def test_render_lists_required_defaults_rules_and_reached_definitions() -> None:
    text = render_reference(SCHEMA)
    assert "| `name` | string | yes |  | The name. | maxLength 9 |" in text
    assert "| `items` | list of [Item](#item) |  | `[]` |" in text
    assert "### Item" in text and "| `size` | integer or null |" in text


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        ({"const": 1}, "`1`"),
        ({"type": "object", "additionalProperties": {"type": "string"}}, "mapping of name to string"),
        ({"$ref": "#/$defs/JsonValue"}, "any JSON value"),
        ({"anyOf": [{"type": "string"}, {"type": "string"}, {"type": "null"}]}, "string or null"),
    ],
)
def test_describe_type(node: dict[str, object], expected: str) -> None:
    assert describe_type(node) == expected


def test_update_replaces_only_between_the_markers(tmp_path: Path) -> None:
    document = f"# Title\n\nprose\n\n{BEGIN}\n\nold\n{END}\n\nafter\n"
    updated = update_document(document, "new\n")
    assert updated == f"# Title\n\nprose\n\n{BEGIN}\n\nnew\n\n{END}\n\nafter\n"
    assert update_document(updated, "new\n") == updated
    stale = tmp_path / "configuration.md"
    stale.write_text(document)
    assert main(["--check", "--document", str(stale)]) == 1
    assert main(["--document", str(stale)]) == 0 and main(["--check", "--document", str(stale)]) == 0
    assert stale.read_text().startswith("# Title\n\nprose\n")
