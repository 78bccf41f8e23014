"""What the GenAI content modules (`otlp_content`, `otlp_google_ollama`) share: the four
content attributes' names, and the reader both use for lists."""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]
Content = dict[str, list[Any]]
"""Attribute name → its structured value (the caller writes it as a JSON string)."""


def listed(value: Any) -> list[Any]:
    """A list, or an empty one for anything else."""
    return value if isinstance(value, list) else []


def genai_content(
    instructions: list[Any], messages: list[Any], output: list[Any], tools: list[Any]
) -> Content:
    """The four content attributes of one call."""
    return {
        "gen_ai.system_instructions": instructions,
        "gen_ai.input.messages": messages,
        "gen_ai.output.messages": output,
        "gen_ai.tool.definitions": tools,
    }
