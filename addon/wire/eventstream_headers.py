"""The header block of an AWS event-stream frame: its typed values, and what they make of it.

Kept apart from the decoder's loop (`eventstream.py`) because a stream repeats a few header blocks:
each is read here once, and the loop looks the result up by the block's bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import NamedTuple
from uuid import UUID

HeaderValue = bool | int | bytes | str | UUID
Headers = Mapping[str, HeaderValue]
"""Read-only: one header block is parsed once and shared by every frame that repeats it."""

_UINT16 = struct.Struct(">H")
_FIXED = {  # header value type -> (size, struct) for the fixed-size integer types
    2: (1, struct.Struct(">b")),
    3: (2, struct.Struct(">h")),
    4: (4, struct.Struct(">i")),
    5: (8, struct.Struct(">q")),
    8: (8, struct.Struct(">q")),  # timestamp: milliseconds since the epoch
}
EVENT, EXCEPTION, ERROR, OTHER = range(4)
"""What a frame is, by its `:message-type`: decided once per distinct header block."""


class FrameKind(NamedTuple):
    """What a header block makes of a frame: its headers, `EVENT`/`EXCEPTION`/…, its name."""

    headers: Headers
    kind: int
    name: str


def parse_headers(raw: bytes | memoryview) -> dict[str, HeaderValue]:
    """A frame's header block as a dict; raises ValueError when it is malformed."""
    headers: dict[str, HeaderValue] = {}
    size = len(raw)
    at = 0
    try:
        while at < size:
            name_size = raw[at]
            name = bytes(raw[at + 1 : at + 1 + name_size]).decode("utf-8")
            at += 1 + name_size
            kind = raw[at]
            at += 1
            value: HeaderValue
            if kind == 0:
                value = True
            elif kind == 1:
                value = False
            elif kind in _FIXED:
                width, unpacker = _FIXED[kind]
                (value,) = unpacker.unpack_from(raw, at)
                at += width
            elif kind in (6, 7):
                (length,) = _UINT16.unpack_from(raw, at)
                at += 2
                if at + length > size:
                    raise ValueError(f"header {name!r} runs past the header block")
                data = bytes(raw[at : at + length])
                value = data if kind == 6 else data.decode("utf-8")
                at += length
            elif kind == 9:
                if at + 16 > size:
                    raise ValueError(f"header {name!r} runs past the header block")
                value = UUID(bytes=bytes(raw[at : at + 16]))
                at += 16
            else:
                raise ValueError(f"header {name!r} has unknown value type {kind}")
            if name in headers:
                raise ValueError(f"header {name!r} appears twice")
            headers[name] = value
    except (IndexError, struct.error) as exc:
        raise ValueError(f"header block is cut short ({exc})") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"header text is not UTF-8 ({exc})") from None
    return headers


def classify(headers: Headers) -> FrameKind:
    """How a frame with these headers becomes an event: its kind and its name."""
    message_type = headers.get(":message-type", "event")
    if message_type == "event":
        kind, name = EVENT, headers.get(":event-type")
    elif message_type == "exception":
        kind, name = EXCEPTION, headers.get(":exception-type")
    elif message_type == "error":
        kind, name = ERROR, headers.get(":error-code")
    else:
        kind, name = OTHER, headers.get(":event-type") or message_type
    return FrameKind(headers, kind, name if isinstance(name, str) and name else "message")
