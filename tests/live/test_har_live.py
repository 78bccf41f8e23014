"""`mitmdump -nr out.har -s addon/llm_rebuild.py` over a file `llm.har` wrote gives the records
that the capture itself gives: the same answers, errors, usage and cost, call by call."""

from __future__ import annotations

import json
from pathlib import Path

from mitmproxy.addons.view import View
from mitmproxy.test import taddons

from addon.llm_rebuild import LLMRebuild
from addon.proxy.har import HAR_FIELD, LLMHar
from tests.conftest import CAPTURE, LLM_FLOWS_IN_CAPTURE, read_flows
from tests.live.proxy import ADDON, read_records, run_mitmdump

SAME = ("provider", "complete", "response", "errors", "status_code", "streamed", "events")
SAME_TOO = ("usage", "cost", "cost_reason")


def records_of(capture: Path, dumps: Path) -> list[dict]:
    done = run_mitmdump("-nr", str(capture), "-s", str(ADDON), "--set", f"llm_dump_dir={dumps}")
    assert done.returncode == 0, done.stdout + done.stderr
    return read_records(dumps)  # in the order of the calls: dump names start with their time


def test_mitmdump_reads_the_har_back_into_the_same_records(tmp_path: Path):
    view, rebuilder = View(), LLMRebuild()
    with taddons.context(view, rebuilder) as tctx:
        tctx.master.addons.register(LLMHar(rebuilder.resolver))
        tctx.configure(rebuilder, llm_dump_dir="", llm_summary=False)
        view.add(read_flows())
        tctx.master.commands.execute(f"llm.har @all {tmp_path / 'out.har'}")
    har = json.loads((tmp_path / "out.har").read_text())
    carried = [e[HAR_FIELD] for e in har["log"]["entries"] if HAR_FIELD in e]

    original = records_of(CAPTURE, tmp_path / "from-flow")
    from_har = records_of(tmp_path / "out.har", tmp_path / "from-har")
    assert len(from_har) == len(original) == len(carried) == LLM_FLOWS_IN_CAPTURE
    for ours, theirs, record in zip(from_har, original, carried, strict=True):
        for key in (*SAME, *SAME_TOO):
            assert ours.get(key) == theirs.get(key), (theirs["flow_id"], key)
            assert record.get(key) == theirs.get(key), (theirs["flow_id"], key)
        assert ours["request"]["url"] == theirs["request"]["url"]
        assert ours["request"]["body"] == theirs["request"]["body"]
