"""The page: the HTML template with its CSS and scripts inlined and the data as JSON blocks.

One file, nothing fetched: the Content-Security-Policy allows no network at all, so the page
opens from disk, can be mailed, and cannot leak what it shows. The data sits in
`<script type="application/json">` blocks, which the browser does not run and the page parses
only when it needs them; every `<` in them is written `\\u003c`, so no text from the traffic can
end a block or start a tag.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from importlib import resources

from addon.sinks.report.data import ReportBuilder
from addon.wire.jsonvalue import dumps

SCRIPTS = ("util.js", "json.js", "charts.js", "overview.js", "detail.js", "main.js")
"""In the order they are inlined: each may use what the ones before it define."""


def asset(name: str) -> str:
    return (resources.files("addon.sinks.report") / "assets" / name).read_text("utf-8")


def _inline(text: str, closing: str) -> str:
    if closing in text.lower():
        raise ValueError(f"an asset contains {closing!r}, which would end its element early")
    return text


def _block(element_id: str, data: bytes) -> bytes:
    return (
        f'<script type="application/json" id="{element_id}">'.encode()
        + data.replace(b"<", b"\\u003c")
        + b"</script>\n"
    )


def render_parts(builder: ReportBuilder, generated: str, version: str = "") -> Iterator[bytes]:
    """The page in pieces, each made when it is written: a data block at a time in memory."""
    starts = builder.blobs.chunk_starts()
    index = builder.index(generated, version)
    index["chunks"] = starts
    script = "\n".join(_inline(asset(f"js/{name}"), "</script") for name in SCRIPTS)
    head, _, tail = asset("report.html").partition("<!--DATA-->")
    head = head.replace("{{title}}", html.escape(builder.title))
    head = head.replace("/*CSS*/", _inline(asset("report.css"), "</style"))
    tail = tail.replace("/*JS*/", "(() => {\n'use strict';\n" + script + "\n})();")
    yield head.encode()
    yield _block("index", dumps(index))
    ends = [*starts[1:], len(builder.blobs.items)] if starts else []
    for number, (start, end) in enumerate(zip(starts, ends, strict=True)):
        yield _block(f"b{number}", builder.blobs.chunk(start, end))
    yield tail.encode()


def render(builder: ReportBuilder, generated: str, version: str = "") -> bytes:
    """The whole page as bytes (UTF-8)."""
    return b"".join(render_parts(builder, generated, version))
