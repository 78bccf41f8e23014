"""A live capture (`-w`) holds the whole body; replayed offline it gives the same records, and
`mitmdump --server-replay` serves the same bytes as a mock of the API.

One mitmdump runs a mix of flows (three APIs, four encodings, cut and abandoned streams) and
is stopped so `-w` is flushed; `mitmdump -nr` then replays its capture through the addon.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
from mitmproxy import io

from tests.live.apps import APIS, answer
from tests.live.proxy import ADDON, Mitmdump, read_records, run_mitmdump
from tests.live.upstream import ENCODINGS, Plan, Upstream

STREAMS = {
    "anthropic-messages": "sdk/anthropic/stream-a-refusal.sse",
    "openai-chat": "sdk/openai-chat/test_parse_pydantic_tool.c6aa7e397b71.sse",
    "openai-responses": "sdk/openai-responses/dotnet.FunctionCallStreamingWorks.e0.sse",
}
REQUEST = {"model": "test-model", "stream": True}


@dataclass
class Case:
    name: str
    provider: str
    plan: Plan
    ending: str  # "complete", "cut", "client gone", "hung up after the end"


def play(case: Case, proxy: Mitmdump) -> None:
    url = f"{proxy.url}/p/{case.plan.key}{APIS[case.provider].api_path}"
    with (
        httpx2.Client(trust_env=False) as client,
        client.stream("POST", url, json=REQUEST) as response,
    ):
        received = b""
        try:
            for chunk in response.iter_raw():
                received += chunk
                if case.ending == "client gone" and len(received) >= len(case.plan.pieces[0]):
                    break
                if case.ending == "hung up after the end" and received.endswith(b"[DONE]\n\n"):
                    break
        except httpx2.RemoteProtocolError:
            assert case.ending == "cut"
    case.plan.finished.wait(5)


def cases(upstream: Upstream) -> list[Case]:
    made = [Case(f"{p}-plain", p, answer(s), "complete") for p, s in STREAMS.items()]
    for encoding in ENCODINGS:
        plan = answer(STREAMS["anthropic-messages"], encoding=encoding)
        made.append(Case(f"anthropic-{encoding}", "anthropic-messages", plan, "complete"))
    cut = answer(STREAMS["openai-chat"], encoding="gzip")
    cut.cut_after = len(cut.pieces) // 2
    made.append(Case("chat-gzip-cut", "openai-chat", cut, "cut"))
    gone = answer(STREAMS["openai-responses"])
    gone.stall_after = 1
    made.append(Case("responses-client-gone", "openai-responses", gone, "client gone"))
    late = answer(STREAMS["openai-chat"])
    late.pauses[-1] = 0.5
    made.append(Case("chat-hung-up-after-done", "openai-chat", late, "hung up after the end"))
    for case in made:
        upstream.add(case.plan)
    return made


@dataclass
class Capture:
    cases: list[Case]
    live: dict[str, dict]  # plan key -> record
    flow_file: Path
    proxy: Mitmdump


@pytest.fixture(scope="module")
def capture(upstream: Upstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Capture]:
    workdir = tmp_path_factory.mktemp("capture")
    proxy = Mitmdump(workdir, "--mode", f"reverse:http://127.0.0.1:{upstream.port}")
    made = cases(upstream)
    with proxy:
        for case in made:
            play(case, proxy)
        live = {case.plan.key: proxy.record_for(case.plan.key) for case in made}
    # Stopped: -w is flushed.
    yield Capture(made, live, proxy.flow_file, proxy)


def key_of(record: dict) -> str:
    return record["request"]["url"].split("/p/", 1)[1].split("/", 1)[0]


def test_the_capture_holds_every_flow_with_the_body_exactly_as_sent(capture: Capture):
    with capture.flow_file.open("rb") as file:
        flows = {f.request.path.split("/")[2]: f for f in io.FlowReader(file).stream()}
    assert set(flows) == {case.plan.key for case in capture.cases}
    for case in capture.cases:
        flow = flows[case.plan.key]
        assert flow.response is not None
        assert flow.response.raw_content == case.plan.wire_body, case.name
        assert flow.metadata["llm_rebuild"] == capture.live[case.plan.key]
        assert (flow.error is not None) == (case.ending != "complete"), case.name


def test_offline_replay_of_the_capture_gives_the_live_records(capture: Capture, tmp_path: Path):
    result = run_mitmdump(
        "-nr",
        str(capture.flow_file),
        "-s",
        str(ADDON),
        "--set",
        f"llm_dump_dir={tmp_path}",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    offline = read_records(tmp_path)
    assert sorted(key_of(r) for r in offline) == sorted(capture.live), "one record per flow"
    for record in offline:
        live = capture.live[key_of(record)]
        # Everything, timing included: offline reuses the live first byte and first token
        # saved in the flow's metadata, and a broken stream ends at the flow's error time.
        assert record == live
    endings = {case.name: capture.live[case.plan.key]["complete"] for case in capture.cases}
    assert [name for name, complete in endings.items() if not complete] == [
        "chat-gzip-cut",
        "responses-client-gone",
    ]


def test_server_replay_of_the_capture_serves_the_same_bytes_and_records(
    capture: Capture, upstream: Upstream, tmp_path: Path
):
    """`mitmdump --server-replay capture.flow` as a mock of the API: the upstream forgets the
    answers (and unmatched requests are killed), so only the capture can answer."""
    whole = [case for case in capture.cases if case.ending == "complete"]
    for case in whole:
        upstream.plans.pop(case.plan.key)
    replay = Mitmdump(
        tmp_path,
        "--mode",
        f"reverse:http://127.0.0.1:{upstream.port}",
        "--server-replay",
        str(capture.flow_file),
        "--set",
        "server_replay_extra=kill",
    )
    with replay, httpx2.Client(trust_env=False) as client:
        for case in whole:
            url = f"{replay.url}/p/{case.plan.key}{APIS[case.provider].api_path}"
            with client.stream("POST", url, json=REQUEST) as response:
                got = b"".join(response.iter_raw())
            assert response.status_code == 200
            assert response.headers.get("content-encoding", "") == case.plan.encoding
            assert got == case.plan.wire_body, case.name
            record = replay.record_for(case.plan.key)
            live = capture.live[case.plan.key]
            assert record["complete"] is True, (case.name, record["errors"])
            assert record["response"] == live["response"]
            assert record["events"] == live["events"]


def test_with_store_streamed_bodies_mitmproxy_keeps_the_body_once(
    upstream: Upstream, tmp_path: Path
):
    """mitmproxy's own option on: it stores the streamed body, the addon keeps no copy, and the
    saved flow has the body exactly once."""
    proxy = Mitmdump(
        tmp_path,
        "--mode",
        f"reverse:http://127.0.0.1:{upstream.port}",
        "--set",
        "store_streamed_bodies=true",
    )
    case = Case(
        "anthropic-gzip",
        "anthropic-messages",
        answer(STREAMS["anthropic-messages"], encoding="gzip"),
        "complete",
    )
    upstream.add(case.plan)
    with proxy:
        play(case, proxy)
        record = proxy.record_for(case.plan.key)
    with proxy.flow_file.open("rb") as file:
        (flow,) = io.FlowReader(file).stream()
    assert flow.response.raw_content == case.plan.wire_body
    assert record["complete"] is True, record["errors"]
    assert flow.metadata["llm_rebuild"] == record
