"""The session report: records → one self-contained HTML page (`data.py` the page's data,
`page.py` the page, `assets/` its template, style and scripts)."""

from __future__ import annotations

import contextlib
import os
import tempfile

from addon.sinks.report.data import ReportBuilder
from addon.sinks.report.page import render, render_parts

__all__ = ["ReportBuilder", "render", "write_report"]


def write_report(path: str, builder: ReportBuilder, generated: str, version: str = "") -> int:
    """Write the page atomically (beside the target, then renamed over it: a reader never
    sees half a file), piece by piece; returns its size."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".html", dir=folder)
    size = 0
    try:
        with os.fdopen(fd, "wb") as file:
            for part in render_parts(builder, generated, version):
                size += file.write(part)
        os.chmod(tmp, 0o644)  # a page to open and share, not a private temporary file
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return size
