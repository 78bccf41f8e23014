"""The session report without a browser: captures of every kind in, one page out, with the right
calls, sessions and context diffs, and nothing in it that could leak a key or break the page."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from mitmproxy import io as mitmio
from mitmproxy.addons.savehar import SaveHar
from mitmproxy.addons.view import View
from mitmproxy.test import taddons

from addon.llm_rebuild import LLMRebuild
from addon.proxy.resolver import Resolver, Settings
from addon.record import Record
from addon.record.redact import MASK, Redactor
from addon.record.routing import Router
from addon.report.__main__ import main
from addon.report.command import LLMReport
from addon.report.progress import Progress
from addon.report.reading import records_of_flows
from addon.sinks.dump import DumpWriter
from addon.sinks.jsonl import write_jsonl
from addon.sinks.report import ReportBuilder, render
from addon.sinks.report.page import SCRIPTS, asset
from tests import report_capture as known
from tests.conftest import SECRET, anthropic_sse, llm_flow

BLOCK = re.compile(rb'<script type="application/json" id="([a-z0-9]+)">(.*?)</script>', re.S)


class Page:
    """The data of a written page, read back as the page's script reads it."""

    def __init__(self, html: bytes) -> None:
        self.html = html
        blocks = {name.decode(): json.loads(data) for name, data in BLOCK.findall(html)}
        self.index: dict[str, Any] = blocks.pop("index")
        self.chunks = [blocks[f"b{k}"] for k in range(len(self.index["chunks"]))]

    def blob(self, number: int) -> Any:
        k = max(k for k, start in enumerate(self.index["chunks"]) if start <= number)
        return self.chunks[k][number - self.index["chunks"][k]]

    def detail(self, call: int) -> dict[str, Any]:
        return self.blob(self.index["calls"][call]["det"])

    def request_text(self, call: int) -> str:
        return "".join(
            p if isinstance(p, str) else self.blob(p) for p in self.detail(call)["request"]
        )

    def message_texts(self, call: int) -> list[str]:
        return [" ".join(p[1] for p in self.blob(m)[1]) for m in self.detail(call)["messages"]]


def write_flows(path: Path, flows: list) -> Path:
    with path.open("wb") as file:
        writer = mitmio.FlowWriter(file)
        for flow in flows:
            writer.add(flow)
    return path


def report_of(capture: Path, tmp_path: Path, *extra: str) -> Page:
    out = tmp_path / "report.html"
    assert main([str(capture), "-o", str(out), "--quiet", *extra]) == 0
    return Page(out.read_bytes())


def resolver() -> Resolver:
    return Resolver(Settings(Router(), Redactor()))


@pytest.fixture(scope="module")
def flow_page(tmp_path_factory) -> Page:
    folder = tmp_path_factory.mktemp("report")
    # written in reverse, as a proxy writes flows that end out of order
    capture = write_flows(folder / "known.flow", known.known_capture()[::-1])
    return report_of(capture, folder)


def test_a_flow_capture_gives_every_call_in_request_order_and_its_sessions(flow_page):
    index = flow_page.index
    assert len(index["calls"]) == known.CALLS
    assert len(index["sessions"]) == known.SESSIONS
    starts = [c["t"] for c in index["calls"]]
    assert starts == sorted(starts)
    labels = [s["label"] for s in index["sessions"]]
    assert labels[:2] == [known.SESSION, known.CODEX_SESSION]
    hosts = {s["host"]: s["client"] for s in index["sessions"] if not s["label"]}
    assert hosts == {
        "openrouter.ai": "OpenAI/Python",
        "api.anthropic.com": "anthropic-python/0.70.0",
    }
    claude = index["sessions"][0]
    assert [index["calls"][i]["turn"] for i in claude["calls"]] == list(range(1, 11))
    totals = index["totals"]
    assert totals["calls"] == known.CALLS
    assert totals["incomplete"] == known.INCOMPLETE
    assert totals["cache_misses"] == known.CACHE_MISSES
    assert claude["totals"]["cache_misses"] == 1 and claude["totals"]["incomplete"] == 1
    assert totals["cost"] == pytest.approx(sum(c["cost"] or 0 for c in index["calls"]))
    assert index["models"] == sorted({c["m"] for c in index["calls"]})
    assert index["tools"] == ["Bash", "Read"]


def test_a_cache_miss_and_a_cut_stream_are_marked_on_their_turns(flow_page):
    calls = flow_page.index["calls"]
    claude = [c for c in calls if c["s"] == 0]
    missed = [c["turn"] for c in claude if c["miss"]]
    cut = [c["turn"] for c in claude if not c["ok"]]
    assert missed == [known.MISS_TURN] and cut == [known.CUT_TURN]
    assert claude[known.MISS_TURN - 1]["cache"].startswith("cache miss: system[1] changed")
    detail = flow_page.detail(claude[known.CUT_TURN - 1]["i"])
    assert any("content_block_stop" in e for e in detail["errors"])


def test_the_context_diff_shows_the_planted_message_as_new(flow_page):
    calls = flow_page.index["calls"]
    planted = next(c for c in calls if c["s"] == 0 and c["turn"] == known.PLANTED_TURN)
    diff = flow_page.detail(planted["i"])["diff"]
    texts = flow_page.message_texts(planted["i"])
    assert diff["turn"] == known.PLANTED_TURN - 1 and not diff["fresh"]
    assert diff["changed"] == 0 and diff["new"] == 3  # the last answer, its tool result, the ask
    assert texts[-1] == known.PLANTED_MESSAGE
    assert diff["same"] == len(texts) - 3
    assert not diff["system"] and diff["tools_added"] == []
    missed = next(c for c in calls if c["s"] == 0 and c["turn"] == known.MISS_TURN)
    assert flow_page.detail(missed["i"])["diff"]["system"] is True


def test_a_resent_context_is_stored_once(flow_page):
    """Ten turns re-send a growing context; each message is one blob, however often sent."""
    claude = [c for c in flow_page.index["calls"] if c["s"] == 0]
    ids = [m for c in claude for m in flow_page.detail(c["i"])["messages"]]
    assert len(ids) > 2 * len(set(ids))
    assert len(set(ids)) == 1 + 2 * (known.CUT_TURN - 1) + 1


def test_the_answer_is_read_from_the_provider_and_the_request_is_exact(flow_page, tmp_path):
    calls = flow_page.index["calls"]
    last = next(c for c in calls if c["s"] == 0 and c["turn"] == known.CLAUDE_TURNS)
    detail = flow_page.detail(last["i"])
    assert [p[0] for p in detail["answer"]] == ["thinking", "text"]
    assert "zebra-quartz-17" in detail["answer"][1][1]
    flow = next(f for f in known.known_capture() if f.request.timestamp_start == last["t"])
    sent = json.loads(flow.request.content)
    sent["metadata"]["api_key"] = MASK
    assert json.loads(flow_page.request_text(last["i"])) == sent
    assert list(json.loads(flow_page.request_text(last["i"]))) == list(sent)
    codex = next(c for c in calls if c["s"] == 1 and c["turn"] == known.SEARCH_TURN)
    assert known.SEARCH_PHRASE in " ".join(flow_page.message_texts(codex["i"]))
    assert flow_page.blob(flow_page.detail(codex["i"])["system"]) == [
        ["text", "You are Codex, a coding agent in the user's terminal."]
    ]


def test_a_live_capture_keeps_its_sessions_timings_and_exact_key_order(tmp_path):
    """Records stored by a live run come back from a .flow file with their keys reversed
    (mitmproxy's tnetstring); the page rebuilds from the bodies and keeps the live insights."""
    flows = known.known_capture(live=True)
    page = report_of(write_flows(tmp_path / "live.flow", flows), tmp_path)
    calls = page.index["calls"]
    assert len(calls) == known.CALLS
    assert all(c["ttft"] is not None for c in calls if c["code"] == 200)
    assert page.index["totals"]["cache_misses"] == known.CACHE_MISSES
    first = page.blob(page.detail(0)["response"])
    assert list(json.loads(first))[:3] == ["id", "type", "role"]
    assert next(iter(json.loads(page.request_text(0)))) == "model"


def test_a_har_reads_as_the_flow_capture_does(flow_page, tmp_path):
    har = tmp_path / "known.har"
    har.write_text(json.dumps(SaveHar().make_har(known.known_capture())))
    page = report_of(har, tmp_path)
    assert [(c["p"], c["m"], c["turn"], c["ok"]) for c in page.index["calls"]] == [
        (c["p"], c["m"], c["turn"], c["ok"]) for c in flow_page.index["calls"]
    ]
    assert len(page.index["sessions"]) == known.SESSIONS


def test_a_dump_folder_and_json_lines_read_as_their_records(flow_page, tmp_path):
    records = list(records_of_flows(known.known_capture(), resolver()))
    writer = DumpWriter(tmp_path / "dumps")
    for record in records:
        writer.write(record, record.timing["started"])
    write_jsonl(str(tmp_path / "records.jsonl"), records[::-1])
    expected = [(c["p"], c["turn"], c["miss"]) for c in flow_page.index["calls"]]
    for capture in (tmp_path / "dumps", tmp_path / "records.jsonl"):
        page = report_of(capture, tmp_path)
        assert [(c["p"], c["turn"], c["miss"]) for c in page.index["calls"]] == expected


def scan(html: bytes, secrets: tuple[str, ...]) -> list[str]:
    return [s for s in secrets if s.encode() in html]


def test_no_planted_key_reaches_the_page_from_any_kind_of_capture(tmp_path):
    flows = known.known_capture()
    captures = [write_flows(tmp_path / "k.flow", flows)]
    har = tmp_path / "k.har"
    har.write_text(json.dumps(SaveHar().make_har(flows)))
    captures.append(har)
    unredacted = tmp_path / "old-dumps"
    unredacted.mkdir()
    for record in records_of_flows(known.known_capture(), resolver()):
        data = record.to_json()  # as an older version might have written it: keys in the clear
        data["request"]["headers"]["x-api-key"] = known.PLANTED_KEYS[0]
        data["request"]["url"] += f"?key={known.PLANTED_KEYS[2]}"
        (unredacted / f"{record.flow_id}.json").write_text(json.dumps(data))
    captures.append(unredacted)
    for capture in captures:
        page = report_of(capture, tmp_path)
        assert scan(page.html, known.PLANTED_KEYS) == [], capture.name
        assert MASK.encode() in page.html


def test_more_names_given_with_redact_are_masked_too(tmp_path):
    flow = llm_flow(headers={"x-custom-token": "custom-secret-value"})
    flow.request.headers["x-team-token"] = "team-secret-value"
    page = report_of(
        write_flows(tmp_path / "one.flow", [flow]), tmp_path, "--redact", "x-team-token"
    )
    assert scan(page.html, (SECRET, "team-secret-value")) == []
    assert b"custom-secret-value" in page.html  # a response header nobody named


def test_text_from_the_traffic_cannot_end_a_data_block_or_inject_markup(tmp_path):
    nasty = "</script><script>alert(1)</script><!-- <img src=x onerror=alert(2)>"
    events = [
        {"type": "message_start", "message": {"id": "m", "type": "message", "role": "assistant",
         "model": "claude", "content": [], "usage": {"input_tokens": 1, "output_tokens": 1}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": nasty}},
        {"type": "content_block_stop", "index": 0},
        {"type": "message_stop"},
    ]  # fmt: skip
    flow = llm_flow(anthropic_sse(*events))
    flow.request.content = json.dumps(
        {"model": "claude", "messages": [{"role": "user", "content": nasty}]}
    ).encode()
    page = report_of(write_flows(tmp_path / "nasty.flow", [flow]), tmp_path)
    assert b"<script>alert" not in page.html and b"<img" not in page.html
    assert page.detail(0)["answer"] == [["text", nasty]]
    assert page.message_texts(0) == [nasty]


def test_numbers_of_any_width_stay_exact_in_the_response_object():
    wide = 2**70 + 1
    record = Record(provider="anthropic-messages", complete=True, status_code=200)
    record.response = {
        "type": "message",
        "content": [{"type": "tool_use", "name": "f", "input": {"n": wide}}],
    }
    builder = ReportBuilder()
    builder.add(record)
    page = Page(render(builder, "now"))
    assert f'"input":{{"n":{wide}}}' in page.blob(page.detail(0)["response"])


def test_the_page_asks_for_nothing_over_the_network():
    template = asset("report.html")
    assert "default-src 'none'" in template
    scripts = "".join(asset(f"js/{name}") for name in SCRIPTS) + asset("report.css")
    scripts = scripts.replace("'http://www.w3.org/2000/svg'", "SVG namespace")  # a name, not a URL
    for word in ("fetch(", "XMLHttpRequest", "WebSocket", "import(", "http://", "https://", "url("):
        assert word not in scripts, word
    assert not re.search(r"\b(src|href)=\"?https?:", template)


def test_the_page_is_written_once_whole_and_readable_by_others(tmp_path):
    out = tmp_path / "r.html"
    assert (
        main(
            [
                str(write_flows(tmp_path / "k.flow", known.known_capture())),
                "-o",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    assert out.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp")] == []


def test_llm_report_runs_from_mitmproxys_command_line(tmp_path, caplog):
    view, rebuilder = View(), LLMRebuild()
    with taddons.context(view, rebuilder) as tctx:
        tctx.master.addons.register(LLMReport(rebuilder.resolver))
        tctx.configure(rebuilder, llm_dump_dir="", llm_summary=False)
        view.add(known.known_capture(live=True)[::-1])
        out = tmp_path / "from-console.html"
        with caplog.at_level("INFO"):
            tctx.master.commands.execute(f"llm.report @all {out}")
    page = Page(out.read_bytes())
    assert len(page.index["calls"]) == known.CALLS
    assert page.index["totals"]["cache_misses"] == known.CACHE_MISSES
    assert scan(page.html, known.PLANTED_KEYS) == []
    assert f"llm.report: wrote {known.CALLS} calls in {known.SESSIONS} sessions" in caplog.text


def test_a_capture_that_cannot_be_read_is_one_sentence_and_exit_code_2(tmp_path, capsys):
    junk = tmp_path / "junk.flow"
    junk.write_bytes(b"this is not a capture")
    assert main([str(junk), "-o", str(tmp_path / "x.html")]) == 2
    assert main([str(tmp_path / "missing.flow")]) == 2
    assert main([str(tmp_path), "-o", str(tmp_path / "x.html")]) == 2  # a folder without records
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and all(line.startswith("error: ") for line in err)
    assert "Traceback" not in "".join(err)


def test_progress_shows_on_a_terminal_only():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    quiet, terminal = io.StringIO(), Terminal()
    for stream in (quiet, terminal):
        progress = Progress(stream)
        progress.update("reading", 5, 10)
        progress.update("reading", 10, 10)
        progress.done()
    assert quiet.getvalue() == ""
    assert "reading" in terminal.getvalue() and "100%" in terminal.getvalue()
    assert terminal.getvalue().endswith("\r\033[K")


AGENT_KEYS = ("sk-ant-api03-FAKE-agent-capture-key-000000", "sk-proj-FAKE-agent-capture-key-111111")
"""The fake keys `tools/record_agents.py` gave the agents."""


@pytest.mark.parametrize(
    ("capture", "provider", "calls"),
    [("claude-code.flow", "anthropic-messages", 3), ("codex.flow", "openai-responses", 6)],
)
def test_real_agent_captures_give_one_session_each_codex_over_its_websocket(
    capture, provider, calls, tmp_path
):
    page = report_of(Path(__file__).resolve().parent.parent / "flows" / capture, tmp_path)
    index = page.index
    assert len(index["calls"]) == calls and len(index["sessions"]) == 1
    assert {c["p"] for c in index["calls"]} == {provider}
    assert [c["turn"] for c in index["calls"]] == list(range(1, calls + 1))
    answered = [c["turn"] for c in index["calls"] if page.detail(c["i"])["answer"]]
    assert len(answered) == 3  # Codex's prewarms (every other call) answer nothing
    assert scan(page.html, AGENT_KEYS) == []
