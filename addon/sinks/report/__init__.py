"""The session report: records → one self-contained HTML page (`data.py` the page's data,
`page.py` the page, `assets/` its template, style and scripts)."""

from __future__ import annotations

import os

from addon.sinks.dump import written_temporary
from addon.sinks.report.data import ReportBuilder
from addon.sinks.report.page import render

__all__ = ["ReportBuilder", "render", "write_report"]


def write_report(path: str, builder: ReportBuilder, generated: str, version: str = "") -> int:
    """Write the page atomically (a reader never sees half a file); returns its size."""
    page = render(builder, generated, version)
    folder = os.path.dirname(os.path.abspath(path))
    with written_temporary(folder, page, ".html") as tmp:
        os.chmod(tmp, 0o644)  # a page to open and share, not a private temporary file
        os.replace(tmp, path)
    return len(page)
