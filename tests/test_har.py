"""llm.har, run through mitmproxy's command manager over flows/llm.flow: mitmproxy's own HAR
entries, each LLM call's carrying its record in `_llm_rebuild`, credentials masked; mitmproxy's
HAR reader takes the file back and the rebuild gives the same answers. (`mitmdump -nr out.har`
as a process: tests/live/test_har_live.py.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mitmproxy import exceptions, http, io
from mitmproxy.addons.view import View
from mitmproxy.test import taddons

from addon.llm_rebuild import LLMRebuild
from addon.proxy.commands import LLMCommands
from addon.proxy.har import HAR_FIELD, LLMHar
from addon.record import Record
from addon.record.redact import MASK
from tests.conftest import FLOWS_KEYS, LLM_FLOWS_IN_CAPTURE, read_flows

LLM_FLOWS = LLM_FLOWS_IN_CAPTURE
HTTP_FLOWS = LLM_FLOWS + 1  # and one plain GET to example.com


@pytest.fixture
def master():
    view, rebuilder = View(), LLMRebuild()
    with taddons.context(view, rebuilder) as tctx:
        tctx.master.addons.register(LLMCommands(rebuilder.resolver))
        tctx.master.addons.register(LLMHar(rebuilder.resolver))
        tctx.configure(rebuilder, llm_dump_dir="", llm_summary=False)
        view.add(read_flows())
        yield tctx


def write_har(tctx: taddons.context, path: Path, flows: str = "@all") -> dict[str, Any]:
    tctx.master.commands.execute(f"llm.har {flows} {path}")
    return json.loads(path.read_text("utf-8"))


def rebuilt_answers(flows: list[http.HTTPFlow]) -> list[tuple[str, Any]]:
    """(provider, response) of every record the addon publishes for these flows, in order."""
    rebuilder = LLMRebuild()
    published: list[Record] = []
    rebuilder.listeners.append(published.append)
    with taddons.context(rebuilder) as tctx:
        tctx.configure(rebuilder, llm_dump_dir="", llm_summary=False)
        for flow in flows:
            rebuilder.response(flow)
    return [(r.provider, r.response) for r in published]


def test_llm_entries_carry_the_record_llm_dump_writes(master, tmp_path: Path):
    har = write_har(master, tmp_path / "out.har")
    master.master.commands.execute(f"llm.dump @all {tmp_path / 'records.jsonl'}")
    dumped = [json.loads(line) for line in (tmp_path / "records.jsonl").read_text().splitlines()]
    entries = har["log"]["entries"]
    assert len(entries) == HTTP_FLOWS
    assert har["log"]["version"] == "1.2" and har["log"]["creator"]["name"] == "mitmproxy"
    carried = [entry[HAR_FIELD] for entry in entries if HAR_FIELD in entry]
    assert len(carried) == LLM_FLOWS
    for record, dump in zip(carried, dumped, strict=True):
        # These flows were loaded without the addon: llm.har prices them, as llm.rebuild does.
        assert {k: v for k, v in record.items() if k not in ("cost", "cost_reason")} == dump
    assert carried[0]["cost"]["total"] > 0
    (plain,) = [entry for entry in entries if HAR_FIELD not in entry]
    assert plain["request"]["url"] == "https://example.com/"


def test_entries_are_mitmproxys_own_with_the_raw_answer_beside_the_record(master, tmp_path):
    har = write_har(master, tmp_path / "out.har")
    entry = next(e for e in har["log"]["entries"] if e.get(HAR_FIELD, {}).get("streamed"))
    assert entry["response"]["content"]["mimeType"].startswith("text/event-stream")
    assert entry["response"]["content"]["text"].startswith(("event:", "data:"))
    assert entry["request"]["postData"]["mimeType"] == "application/json"
    assert {"startedDateTime", "time", "timings", "cache"} <= set(entry)
    bedrock = next(
        e for e in har["log"]["entries"] if e.get(HAR_FIELD, {}).get("provider") == "bedrock-invoke"
    )
    # AWS event-stream frames: text as mitmproxy writes them, bytes again when read back
    assert bedrock["response"]["content"]["mimeType"] == "application/vnd.amazon.eventstream"
    assert bedrock["response"]["content"]["text"]


def test_no_credential_reaches_the_file(master, tmp_path: Path):
    path = tmp_path / "out.har"
    har = write_har(master, path)
    text = path.read_text("utf-8")
    assert not any(key in text for key in FLOWS_KEYS)
    headers = {
        h["name"].lower(): h["value"] for h in har["log"]["entries"][0]["request"]["headers"]
    }
    assert headers["x-api-key"] == MASK


def test_mitmproxys_har_reader_takes_it_back_and_the_rebuild_gives_the_same_answers(
    master, tmp_path: Path
):
    path = tmp_path / "out.har"
    write_har(master, path)
    with path.open("rb") as file:
        back = [f for f in io.FlowReader(file).stream() if isinstance(f, http.HTTPFlow)]
    assert len(back) == HTTP_FLOWS
    assert rebuilt_answers(back) == rebuilt_answers(read_flows())


def test_chosen_flows_only_and_a_missing_folder_is_a_command_error(master, tmp_path: Path):
    har = write_har(master, tmp_path / "one.har", '"~u example.com"')
    assert len(har["log"]["entries"]) == 1 and HAR_FIELD not in har["log"]["entries"][0]
    with pytest.raises(exceptions.CommandError, match=r"llm\.har: cannot write"):
        master.master.commands.execute(f"llm.har @all {tmp_path / 'missing' / 'out.har'}")
