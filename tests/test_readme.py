"""The README says what the code does: its API table is the provider registry's."""

from __future__ import annotations

from pathlib import Path

from tools.providers_table import table

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_lists_every_registered_api_with_its_routes():
    text = README.read_text()
    shown = text.split("<!-- providers -->\n", 1)[1].split("<!-- /providers -->", 1)[0]
    assert shown == table(), "run `uv run python tools/providers_table.py` into the README"
