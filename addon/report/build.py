"""Records → the report file: the one path both the command line and `llm.report` take."""

from __future__ import annotations

import time
from collections.abc import Iterable
from importlib import metadata

from addon.record import Record
from addon.sinks.report import ReportBuilder, write_report


def version() -> str:
    try:
        return metadata.version("llm-rebuild")
    except metadata.PackageNotFoundError:
        return ""


def build_report(records: Iterable[Record], path: str, title: str, source: str) -> ReportBuilder:
    """Every record into the page, then the page written atomically to `path`."""
    builder = ReportBuilder(title=title, source=source)
    for record in records:
        builder.add(record)
    generated = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    write_report(path, builder, generated, version())
    return builder
