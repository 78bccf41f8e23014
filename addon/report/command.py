"""`llm.report @all ~/report.html`: the session report of the chosen flows, from the console's
command prompt or mitmweb's command bar."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from mitmproxy import command, exceptions, flow, types

from addon.proxy.resolver import Resolver
from addon.report.build import build_report
from addon.report.reading import in_request_order, records_of_flows

log = logging.getLogger(__name__)


class LLMReport:
    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver

    @command.command("llm.report")  # type: ignore[untyped-decorator]  # mitmproxy is untyped here
    def report(self, flows: Sequence[flow.Flow], path: types.Path) -> None:
        """Write one self-contained HTML page about the LLM calls among the flows."""
        target = os.path.expanduser(path)
        records = records_of_flows(in_request_order(flows), self.resolver)
        try:
            builder = build_report(records, target, os.path.basename(target), "mitmproxy")
        except OSError as exc:
            raise exceptions.CommandError(f"llm.report: cannot write {target}: {exc}") from None
        log.info(
            "llm.report: wrote %d calls in %d sessions to %s",
            len(builder.calls),
            len(builder.sessions),
            target,
        )
