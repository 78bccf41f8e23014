"""`python -m addon.report CAPTURE -o report.html`: one self-contained HTML page per capture.

CAPTURE is a mitmproxy `.flow` file (`mitmdump -w`), a HAR, a dump folder (`llm_dump_dir`) or a
JSON Lines file of records (`llm.dump`). Records are rebuilt where the capture has none, and
redacted as dumps are. A progress bar shows on a terminal; nothing is printed but the result
line otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from addon.proxy.options import redactor, router
from addon.proxy.resolver import Resolver, Settings
from addon.report.build import build_report
from addon.report.progress import Progress
from addon.report.reading import CaptureError, read_capture


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m addon.report",
        description="Write one self-contained HTML page about the LLM calls of a capture.",
    )
    p.add_argument("capture", type=Path, help=".flow file, HAR, dump folder or .jsonl of records")
    p.add_argument("-o", "--output", help="the page to write (default: CAPTURE's name + .html)")
    p.add_argument("--title", help="the page's title (default: the capture's file name)")
    p.add_argument(
        "--redact",
        action="append",
        default=[],
        metavar="NAME",
        help="one more header, query or body field name to mask (as llm_redact; repeatable)",
    )
    p.add_argument(
        "--route",
        action="append",
        default=[],
        metavar="'HOST PATH_REGEX PROVIDER [METHODS]'",
        help="one more route to an LLM API (as llm_routes; repeatable)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar, no result line")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    capture: Path = args.capture
    output = args.output or f"{capture.name.removesuffix('.flow')}.html"
    try:
        settings = Settings(router(args.route), redactor(args.redact))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    progress = Progress(enabled=False if args.quiet else None)
    try:
        records = read_capture(capture, Resolver(settings), progress.update)
        builder = build_report(records, output, args.title or capture.name, capture.name)
    except CaptureError as exc:
        progress.done()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        progress.done()
        print(f"error: cannot write {output}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    progress.done()
    if not args.quiet:
        size = os.path.getsize(output)
        print(
            f"wrote {output}: {len(builder.calls):,} calls in {len(builder.sessions):,} "
            f"sessions, {size / 1e6:.1f} MB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
