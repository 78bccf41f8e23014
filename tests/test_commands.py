"""llm.dump and llm.rebuild, run through mitmproxy's command manager as the console and mitmweb's
command bar run them, over flows read from flows/llm.flow (a capture made without the addon)."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from mitmproxy import exceptions, io
from mitmproxy.addons.view import View
from mitmproxy.test import taddons

from addon.llm_rebuild import METADATA_KEY, LLMRebuild
from addon.providers import REGISTRY
from addon.proxy.capture import FlowCapture
from addon.proxy.commands import LLMCommands
from addon.record import RECORD_KEYS
from addon.record.redact import MASK
from tests.conftest import FLOWS_KEYS, read_flows, rebuilt
from tests.oracles import CORPUS

ROOT = Path(__file__).resolve().parent.parent
SECRETS = FLOWS_KEYS
LLM_SAMPLES = sum(len(p.samples) for p in REGISTRY)
LLM_FLOWS = LLM_SAMPLES + 2  # flows/make_flows.py: the samples, a plain JSON answer, a 429


class Updates:
    """Counts the `update` events the commands send (mitmweb and the console redraw on them)."""

    def __init__(self) -> None:
        self.flows: list = []

    def update(self, flows) -> None:
        self.flows.extend(flows)


@pytest.fixture
def master():
    view, rebuilder, updates = View(), LLMRebuild(), Updates()
    with taddons.context(view, rebuilder, updates) as tctx:
        commands = LLMCommands(rebuilder.resolver)
        tctx.master.addons.register(commands)
        tctx.configure(rebuilder, llm_dump_dir="", llm_summary=False)
        flows = read_flows()
        view.add(flows)
        yield tctx, flows, updates


def run(tctx, line: str):
    return tctx.master.commands.execute(line)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_dump_writes_one_redacted_record_per_llm_flow_rebuilding_where_none(master, tmp_path):
    tctx, flows, _ = master
    out = tmp_path / "records.jsonl"
    run(tctx, f"llm.dump @all {out}")
    records = read_jsonl(out)
    llm = [f for f in flows if f.request.pretty_host != "example.com"]
    assert len(records) == len(llm) == LLM_FLOWS
    for record, flow in zip(records, llm, strict=True):
        assert set(RECORD_KEYS) <= set(record)
        assert record["flow_id"] == flow.id
        expected = rebuilt(record["provider"], flow)["response"]
        assert record["response"] == orjson.loads(orjson.dumps(expected))
        assert record["status_code"] == flow.response.status_code
    assert sum(r["complete"] for r in records) == LLM_FLOWS - 2  # the truncated one, the 429
    text = out.read_text()
    assert not any(secret in text for secret in SECRETS)
    assert MASK in text
    assert not any(METADATA_KEY in f.metadata for f in flows)  # dumping changes no flow


def test_dump_of_marked_flows_only(master, tmp_path):
    tctx, flows, _ = master
    flows[0].marked = ":default:"
    flows[-1].marked = ":default:"  # the non-LLM flow: skipped
    out = tmp_path / "marked.jsonl"
    run(tctx, f"llm.dump @marked {out}")
    assert [r["flow_id"] for r in read_jsonl(out)] == [flows[0].id]


def test_dump_path_expands_the_home_folder(master, tmp_path, monkeypatch):
    tctx, _, _ = master
    monkeypatch.setenv("HOME", str(tmp_path))
    run(tctx, "llm.dump @all ~/home.jsonl")
    assert len(read_jsonl(tmp_path / "home.jsonl")) == LLM_FLOWS


def test_dump_into_a_missing_folder_is_a_command_error(master, tmp_path):
    tctx, _, _ = master
    with pytest.raises(exceptions.CommandError, match="cannot write"):
        run(tctx, f"llm.dump @all {tmp_path / 'missing' / 'x.jsonl'}")


def test_rebuild_keeps_records_on_llm_flows_and_announces_the_update(master):
    tctx, flows, updates = master
    run(tctx, "llm.rebuild @all")
    llm = [f for f in flows if METADATA_KEY in f.metadata]
    assert len(llm) == LLM_FLOWS
    assert updates.flows == llm
    other = next(f for f in flows if f.request.pretty_host == "example.com")
    assert METADATA_KEY not in other.metadata
    record = llm[0].metadata[METADATA_KEY]
    assert record["request"]["headers"]["x-api-key"] == MASK
    assert record["response"] == rebuilt("anthropic-messages", llm[0])["response"]


def test_rebuilt_records_survive_saving_the_capture(master, tmp_path):
    tctx, flows, _ = master
    run(tctx, "llm.rebuild @all")
    saved = tmp_path / "saved.flow"
    with saved.open("wb") as file:
        writer = io.FlowWriter(file)
        for flow in flows:
            writer.add(flow)
    with saved.open("rb") as file:
        loaded = list(io.FlowReader(file).stream())
    assert [f.metadata.get(METADATA_KEY) for f in loaded] == [
        f.metadata.get(METADATA_KEY) for f in flows
    ]


def test_dump_uses_the_stored_record_but_redacts_it_again(master, tmp_path):
    tctx, flows, _ = master
    flow = flows[0]
    flow.metadata[METADATA_KEY] = {
        "flow_id": flow.id,
        "provider": "anthropic-messages",
        "complete": True,
        "response": {"marker": "stored"},
        "request": {
            "url": "https://api.anthropic.com/v1/messages?key=sk-in-query",
            "headers": {"x-api-key": SECRETS[0], "x-team-token": "team-secret"},
            "body": {"api_key": "sk-in-body", "model": "m"},
        },
        "response_headers": {"set-cookie": "session=abc"},
    }
    tctx.configure(tctx.master.addons.get("llmrebuild"), llm_redact=["x-team-token"])
    out = tmp_path / "stored.jsonl"
    run(tctx, f"llm.dump @all {out}")
    record = read_jsonl(out)[0]
    assert record["response"] == {"marker": "stored"}
    assert record["request"]["headers"] == {"x-api-key": MASK, "x-team-token": MASK}
    assert record["request"]["body"] == {"api_key": MASK, "model": "m"}
    assert "sk-in-query" not in record["request"]["url"]
    assert record["response_headers"] == {"set-cookie": MASK}


def test_rebuild_of_a_flow_without_its_body_keeps_the_earlier_record(master):
    tctx, flows, _ = master
    flow = flows[0]
    earlier = {"flow_id": flow.id, "provider": "anthropic-messages", "response": {"kept": 1}}
    flow.metadata[METADATA_KEY] = earlier
    flow.response.raw_content = None  # over llm_max_body: the body was not kept
    run(tctx, "llm.rebuild @all")
    assert flow.metadata[METADATA_KEY] == earlier


def test_dump_of_a_running_stream_writes_what_arrived_so_far(master, tmp_path):
    tctx, flows, _ = master
    rebuilder = tctx.master.addons.get("llmrebuild")
    body = (CORPUS / "ccproxy/claude_messages.sse").read_bytes()
    flow = flows[0]
    flow.live = True
    flow.response.raw_content = None
    rebuilder.responseheaders(flow)
    capture = flow.response.stream
    assert isinstance(capture, FlowCapture)
    capture(body[: body.index(b"message_stop")])
    out = tmp_path / "live.jsonl"
    run(tctx, f"llm.dump @all {out}")
    record = read_jsonl(out)[0]
    assert record["flow_id"] == flow.id
    assert record["complete"] is False
    assert "Hello! It's nice to meet you." in json.dumps(record["response"])


def test_commands_are_typed_for_the_console_and_mitmweb(master):
    tctx, _, _ = master
    commands = tctx.master.commands.commands
    assert commands["llm.dump"].signature_help() == "llm.dump flows path"
    assert commands["llm.rebuild"].signature_help() == "llm.rebuild flows"
    assert [p.type for p in commands["llm.dump"].parameters][1].__name__ == "Path"
