"""JSON that keeps every number as the API sent it.

orjson is the fast path for events and dumps, but it turns integers wider than 64 bits into
floats when parsing and refuses them when writing. Whole bodies are parsed with pydantic-core
(jiter: integers of any width stay exact), and a record that orjson cannot write is written
by the standard library instead, so a large integer never costs a dump.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import pydantic_core

_OPTIONS = orjson.OPT_NON_STR_KEYS
_INDENTED = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS


def loads_exact(data: bytes | str) -> Any:
    """A whole JSON document with exact integers; raises ValueError when it is not JSON."""
    return pydantic_core.from_json(data)


def dumps(value: Any, *, indent: bool = False) -> bytes:
    """JSON bytes of a record (UTF-8, no ASCII escaping); never fails for a large integer."""
    try:
        return orjson.dumps(value, option=_INDENTED if indent else _OPTIONS, default=_plain)
    except orjson.JSONEncodeError:
        text = json.dumps(
            value,
            indent=2 if indent else None,
            separators=None if indent else (",", ":"),
            ensure_ascii=False,
            default=_plain,
        )
        return text.encode("utf-8", "surrogatepass")


def _plain(value: Any) -> Any:
    """Metadata restored from a capture file may hold bytes: JSON gets text."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"not JSON serializable: {type(value).__name__}")
