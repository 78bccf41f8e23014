"""Incremental content decoding on the side: the client gets the encoded bytes as sent.

brotli and zstd come with mitmproxy (it decodes them itself), so they add no dependency.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import brotli

if TYPE_CHECKING:  # the checker targets 3.12 (see pyproject.toml); the backport has one API
    from backports import zstd
else:
    try:
        from compression import zstd  # Python 3.14+
    except ImportError:  # pragma: no cover - depends on the Python version
        from backports import zstd


class _Step(Protocol):
    def feed(self, data: bytes) -> bytes: ...
    def flush(self) -> bytes: ...


class _Zlib:
    """gzip or deflate, one member after another (concatenated gzip members are legal)."""

    def __init__(self, wbits: int) -> None:
        self.wbits = wbits
        self.obj = zlib.decompressobj(wbits)

    def feed(self, data: bytes) -> bytes:
        out = [self.obj.decompress(data)]
        while self.obj.eof and self.obj.unused_data:
            rest = self.obj.unused_data
            self.obj = zlib.decompressobj(self.wbits)
            out.append(self.obj.decompress(rest))
        return b"".join(out)

    def flush(self) -> bytes:
        tail = self.obj.flush()
        if not self.obj.eof:
            raise ValueError("compressed stream ended early")
        return tail


class _Deflate:
    """HTTP 'deflate' is meant to be zlib-wrapped, but raw deflate is common: try both."""

    def __init__(self) -> None:
        self.step: _Zlib | None = None
        self.head = b""

    def feed(self, data: bytes) -> bytes:
        if self.step is None:
            self.head += data
            if len(self.head) < 2:
                return b""
            wrapped = (self.head[0] & 0x0F) == 8 and int.from_bytes(self.head[:2]) % 31 == 0
            self.step = _Zlib(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
            data, self.head = self.head, b""
        return self.step.feed(data)

    def flush(self) -> bytes:
        if self.step is None:
            raise ValueError("compressed stream ended early")
        return self.step.flush()


class _Brotli:
    def __init__(self) -> None:
        self.obj = brotli.Decompressor()

    def feed(self, data: bytes) -> bytes:
        out: bytes = self.obj.process(data)  # brotli is untyped
        return out

    def flush(self) -> bytes:
        if not self.obj.is_finished():
            raise ValueError("compressed stream ended early")
        return b""


class _Zstd:
    def __init__(self) -> None:
        self.obj = zstd.ZstdDecompressor()

    def feed(self, data: bytes) -> bytes:
        if not data:
            return b""
        if self.obj.eof:  # a new frame after a finished one
            self.obj = zstd.ZstdDecompressor()
        out = [self.obj.decompress(data)]
        while self.obj.eof and self.obj.unused_data:
            rest = self.obj.unused_data
            self.obj = zstd.ZstdDecompressor()
            out.append(self.obj.decompress(rest))
        return b"".join(out)

    def flush(self) -> bytes:
        if not self.obj.eof:
            raise ValueError("compressed stream ended early")
        return b""


_STEPS: dict[str, Callable[[], _Step]] = {
    "gzip": lambda: _Zlib(16 + zlib.MAX_WBITS),
    "x-gzip": lambda: _Zlib(16 + zlib.MAX_WBITS),
    "deflate": _Deflate,
    "br": _Brotli,
    "zstd": _Zstd,
}


class ContentDecoder:
    """Undoes a Content-Encoding chunk by chunk; on bad data it stops and says why."""

    def __init__(self, content_encoding: str) -> None:
        names = [n.strip().lower() for n in content_encoding.split(",") if n.strip()]
        names = [n for n in names if n != "identity"]
        self.encoding = ", ".join(names)
        self.error: str | None = None
        unknown = [n for n in names if n not in _STEPS]
        if unknown:
            self.error = f"content-encoding {unknown[0]!r} is not supported; body not decoded"
        # Encodings are listed in the order they were applied; undo them last first.
        self.steps: list[_Step] = [] if unknown else [_STEPS[n]() for n in reversed(names)]

    @property
    def active(self) -> bool:
        return bool(self.steps) and self.error is None

    def feed(self, data: bytes) -> bytes:
        if self.error is not None:
            return b""
        try:
            for step in self.steps:
                data = step.feed(data)
        except Exception as exc:
            self.error = f"content-encoding {self.encoding!r}: body does not decode: {exc}"
            return b""
        return data

    def flush(self) -> bytes:
        if self.error is not None:
            return b""
        out = b""
        try:
            for step in self.steps:
                out = step.feed(out) + step.flush()
        except Exception as exc:
            self.error = f"content-encoding {self.encoding!r}: {exc}"
            return b""
        return out
