"""Responses over a WebSocket through a real mitmdump: the openai SDK's `responses.connect()`
(sync and async), a raw client that behaves like Codex, cuts, and the same capture offline.

The fake upstream (`ws_upstream.py`) answers each `response.create` with a recorded stream and
agrees to permessage-deflate; mitmdump runs as a reverse proxy in front of its plain port and
as a regular proxy (the client CONNECTs through it to its TLS port).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
import pytest
import websockets
from websockets.sync.client import connect as sync_connect

from tests.conftest import read_flows
from tests.live.conftest import proxies_in_front_of
from tests.live.proxy import Mitmdump, mitmdump_env, read_records, run_mitmdump
from tests.live.ws_upstream import UPGRADE_HEADERS, SocketPlan, SocketUpstream
from tests.mitmweb import Mitmweb, start_mitmweb
from tests.oracles import strip_nulls
from tests.socket_streams import ANSWERS, sdk_response

pytestmark = pytest.mark.live
FAKE_KEY = "sk-proj-FAKE-websocket-key-2222222222"


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SocketUpstream]:
    server = SocketUpstream(tmp_path_factory.mktemp("ws-upstream")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def proxies(
    upstream: SocketUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Mitmdump]]:
    with proxies_in_front_of(upstream.port, tmp_path_factory, "ws-") as started:
        yield started


class Via:
    """How a client reaches the fake API: a reverse proxy's URL, or the proxy as HTTP proxy."""

    def __init__(self, mode: str, upstream: SocketUpstream, proxy: Mitmdump) -> None:
        self.mode, self.upstream, self.proxy = mode, upstream, proxy

    def base_url(self, plan: SocketPlan) -> str:
        """What goes in OPENAI_BASE_URL (with /v1)."""
        if self.mode == "reverse":
            return f"{self.proxy.url}/p/{plan.key}/v1"
        return f"{self.upstream.base(plan, tls=True)}/v1"

    def ws_url(self, plan: SocketPlan) -> str:
        url = self.base_url(plan) + "/responses"
        return url.replace("https://", "wss://").replace("http://", "ws://")

    def options(self) -> dict[str, Any]:
        """websockets' connect options: deflate on, the proxy and its CA for regular mode."""
        if self.mode == "reverse":
            return {"compression": "deflate", "proxy": None}
        context = ssl.create_default_context(cafile=str(self.proxy.ca_cert))
        return {"compression": "deflate", "proxy": self.proxy.url, "ssl": context}

    def records(self, plan: SocketPlan, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        """The dumps of the plan's socket, by socket_index, once `count` are there."""
        deadline = time.monotonic() + timeout
        while True:
            found = [r for r in self.proxy.records() if f"/p/{plan.key}/" in r["request"]["url"]]
            if len(found) >= count:
                return sorted(found, key=lambda r: r["socket_index"])
            if time.monotonic() > deadline:
                said = self.proxy.output()[-3000:]
                raise AssertionError(f"{len(found)} of {count} records for {plan.key}:\n{said}")
            time.sleep(0.02)


@pytest.fixture(params=["reverse", "regular"])
def via(request, upstream: SocketUpstream, proxies: dict[str, Mitmdump]) -> Via:
    return Via(request.param, upstream, proxies[request.param])


def completed_of(events: list[Any]) -> dict[str, Any]:
    (done,) = [e for e in events if e.type == "response.completed"]
    return strip_nulls(done.response.model_dump(mode="json"))


# The openai SDK ----------------------------------------------------------------------------


def test_sdk_sync_connect_several_turns_one_record_each_as_the_client_saw(via: Via):
    answers = [ANSWERS[0], ANSWERS[1], ANSWERS[3]]
    plan = via.upstream.add(SocketPlan(answers=answers))
    client = openai.OpenAI(api_key=FAKE_KEY, base_url=via.base_url(plan), max_retries=0)
    seen: list[dict[str, Any]] = []
    options = via.options()
    with client.responses.connect(websocket_connection_options=options) as connection:
        for turn in range(len(answers)):
            connection.response.create(model="gpt-test", input=f"turn {turn}")
            events = []
            for event in connection:
                events.append(event)
                if event.type == "response.completed":
                    break
            seen.append(completed_of(events))
            # Published when the response ended, while the socket is still open:
            assert len(via.records(plan, turn + 1)) == turn + 1
    records = via.records(plan, 3)
    assert plan.extensions and plan.extensions.startswith("permessage-deflate")
    assert [r["socket_index"] for r in records] == [0, 1, 2]
    for record, client_saw, answer in zip(records, seen, answers, strict=True):
        assert record["complete"] is True, record["errors"]
        assert strip_nulls(record["response"]) == client_saw == sdk_answer(answer)
        assert record["status_code"] == 101
        headers = {k.lower(): v for k, v in record["request"]["headers"].items()}
        assert headers["authorization"] == "[REDACTED]"
        assert record["request"]["body"]["type"] == "response.create"
        for name, value in UPGRADE_HEADERS.items():
            assert record["response_headers"][name] == value
    assert len({r["flow_id"] for r in records}) == 1
    assert FAKE_KEY not in json.dumps(records)


def test_sdk_async_connect_two_turns(via: Via):
    answers = [ANSWERS[2], ANSWERS[4]]
    plan = via.upstream.add(SocketPlan(answers=answers, pause=0))

    async def talk() -> list[dict[str, Any]]:
        client = openai.AsyncOpenAI(api_key=FAKE_KEY, base_url=via.base_url(plan), max_retries=0)
        seen = []
        options = via.options()
        async with client.responses.connect(websocket_connection_options=options) as connection:
            for turn in range(2):
                await connection.response.create(model="gpt-test", input=f"turn {turn}")
                events = []
                async for event in connection:
                    events.append(event)
                    if event.type == "response.completed":
                        break
                seen.append(completed_of(events))
        return seen

    seen = asyncio.run(talk())
    records = via.records(plan, 2)
    for record, client_saw, answer in zip(records, seen, answers, strict=True):
        assert record["complete"] is True, record["errors"]
        assert strip_nulls(record["response"]) == client_saw == sdk_answer(answer)


def sdk_answer(name: str) -> dict[str, Any]:
    from tests.socket_streams import payloads

    return sdk_response(payloads(name))


# A client that behaves like Codex, then the capture offline ------------------------------------


def codex_like(url: str, options: dict[str, Any], plan: SocketPlan) -> None:
    """Prewarm, a turn chained to it with an acknowledgement, two lanes at once, then a hang-up
    in the middle of a response."""
    headers = {
        "authorization": f"Bearer {FAKE_KEY}",
        "openai-beta": "responses_websockets=2026-02-06",
        "session-id": "codex-session-1",
    }
    with sync_connect(url, additional_headers=headers, max_size=None, **options) as ws:

        def until_end(lanes: int = 1) -> list[dict[str, Any]]:
            ended = []
            while len(ended) < lanes:
                event = json.loads(ws.recv(timeout=10))
                if event["type"] in ("response.completed", "error"):
                    ended.append(event)
            return ended

        def ack(event: dict[str, Any]) -> None:
            response_id = event["response"]["id"]
            ws.send(json.dumps({"type": "response.processed", "response_id": response_id}))

        base = {"type": "response.create", "model": "gpt-5-codex", "store": False}
        ws.send(json.dumps({**base, "input": [], "generate": False}))
        (warm,) = until_end()
        ack(warm)
        ws.send(
            json.dumps({**base, "input": "hello", "previous_response_id": warm["response"]["id"]})
        )
        (first,) = until_end()
        ack(first)
        ws.send(json.dumps({**base, "input": "lane a", "stream_id": "a"}))
        ws.send(json.dumps({**base, "input": "lane b", "stream_id": "b"}))
        for done in until_end(2):
            ack(done)
        ws.send(json.dumps({**base, "input": "cut me off"}))
        for _ in range(20):
            ws.recv(timeout=10)
        ws.socket.close()  # the client hangs up mid-response, without a close frame


@dataclass
class CodexLikeRun:
    records: list[dict[str, Any]]
    capture: Path
    """mitmdump's -w file of the run."""
    answers: list[str]


@pytest.fixture(scope="module")
def codex_like_run(upstream: SocketUpstream, tmp_path_factory: pytest.TempPathFactory):
    answers = [ANSWERS[0], ANSWERS[1], ANSWERS[3], ANSWERS[2]]
    plan = upstream.add(SocketPlan(answers=answers, rate_limits=True, pause=0.001))
    reverse = f"reverse:http://127.0.0.1:{upstream.port}"
    proxy = Mitmdump(tmp_path_factory.mktemp("codex-like"), "--mode", reverse, "--flow-detail", "0")
    with proxy:
        via = Via("reverse", upstream, proxy)
        codex_like(via.ws_url(plan), via.options(), plan)
        records = via.records(plan, 5)
    return CodexLikeRun(records, proxy.flow_file, answers)


def test_codex_like_client_prewarm_lanes_acks_and_a_hang_up(codex_like_run: CodexLikeRun):
    records, answers = codex_like_run.records, codex_like_run.answers
    assert [r["socket_index"] for r in records] == [0, 1, 2, 3, 4]
    warm, first, lane_a, lane_b, cut = records
    assert warm["extras"]["websocket"]["prewarm"] is True and warm["complete"] is True
    assert first["request"]["body"]["previous_response_id"] == warm["response"]["id"]
    assert first["session"]["id"] == "codex-session-1"
    for record in records:
        beside = [m["type"] for m in record["extras"]["websocket"]["messages"]]
        assert beside[:1] == ["codex.rate_limits"]
        assert "codex.rate_limits" not in json.dumps(record["response"])
    lanes = (lane_a["extras"]["websocket"]["lane"], lane_b["extras"]["websocket"]["lane"])
    assert lanes == ("a", "b")
    interleaved = (lane_a["extras"]["websocket"]["span"], lane_b["extras"]["websocket"]["span"])
    assert interleaved[1][0] < interleaved[0][1]  # both ran at once on one socket
    for record, answer in zip([first, lane_a, lane_b], answers[:3], strict=True):
        assert record["complete"] is True, record["errors"]
        assert strip_nulls(record["response"]) == sdk_answer(answer)
    assert cut["complete"] is False
    assert cut["errors"][0].startswith("the connection was lost (code 1006")
    assert cut["response"] is not None and cut["events"] > 10


def test_the_capture_read_again_offline_gives_the_same_records(
    codex_like_run: CodexLikeRun, tmp_path: Path
):
    offline = tmp_path / "offline"
    result = run_mitmdump(
        "-nr",
        str(codex_like_run.capture),
        "-s",
        "addon/llm_rebuild.py",
        "--set",
        f"llm_dump_dir={offline}",
        "-w",
        str(tmp_path / "again.flow"),
        "--flow-detail",
        "0",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    again = sorted(read_records(offline), key=lambda r: r["socket_index"])
    assert len(again) == 5
    for live, replayed in zip(codex_like_run.records, again, strict=True):
        live, replayed = dict(live), dict(replayed)
        live.pop("session"), replayed.pop("session")  # turns count the proxy's whole history
        assert replayed == live
    (flow,) = read_flows(tmp_path / "again.flow")
    kept = flow.metadata["llm_rebuild_ws"]["messages"]
    assert [m["type"] for m in kept] == ["response.processed"] * 4  # each after its end


def test_mitmweb_shows_each_rebuilt_response_where_it_ended(
    codex_like_run: CodexLikeRun, tmp_path: Path
):
    """mitmweb's REST API (what its WebSocket tab shows) renders our view for the messages
    that ended a response and the creates, and the JSON view for the rest."""
    web = start_mitmweb(codex_like_run.capture, tmp_path, mitmdump_env())
    try:
        (flow,) = wait_for_flows(web, 1)
        shown = web.get(f"/flows/{flow['id']}/messages/content/auto.json")
        assert isinstance(shown, list)
        ours = [m for m in shown if m["view_name"] == "LLM rebuilt"]
        ends = [m for m in ours if "it ended here" in m["text"]]
        asks = [m for m in ours if "asked for here" in m["text"]]
        assert len(ends) == 4 and len(asks) == 5  # the cut one never ended
        assert all("── response object (API-exact) ──" in m["text"] for m in ends)
        assert any("beside it: codex.rate_limits" in m["text"] for m in ends)
        assert FAKE_KEY not in json.dumps(shown)
    finally:
        web.stop()


def test_upstream_cut_mid_response_gives_complete_false_with_what_arrived(via: Via):
    plan = via.upstream.add(SocketPlan(answers=[ANSWERS[0], ANSWERS[2]], cut_after=(1, 60)))
    with sync_connect(via.ws_url(plan), max_size=None, **via.options()) as ws:
        for text in ("first", "second"):
            ws.send(json.dumps({"type": "response.create", "model": "m", "input": text}))
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                ws.recv(timeout=10)
    first, second = via.records(plan, 2)
    assert first["complete"] is True
    assert second["complete"] is False and second["events"] == 60
    assert second["errors"][0].startswith("the connection was lost (code 1006")


# The real Codex CLI ------------------------------------------------------------------------

CODEX = os.environ.get("LLM_REBUILD_CODEX") or shutil.which("codex")
CODEX_CONFIG = """
model = "gpt-5-codex"
model_provider = "fake"
check_for_update_on_startup = false

[model_providers.fake]
name = "fake local Responses API behind mitmdump"
base_url = "{base_url}"
wire_api = "responses"
env_key = "FAKE_OPENAI_KEY"
supports_websockets = true
request_max_retries = 0
stream_max_retries = 0
"""


@pytest.mark.skipif(
    CODEX is None,
    reason="the Codex CLI is not installed (npm install @openai/codex; LLM_REBUILD_CODEX=path)",
)
def test_the_codex_cli_over_a_websocket_through_mitmdump(
    upstream: SocketUpstream, proxies: dict[str, Mitmdump], tmp_path: Path
):
    """`codex exec` against 127.0.0.1 only (a fake key; anything else it tries to reach goes
    to a dead proxy port): it prewarms, then asks for the turn chained to the prewarm."""
    assert CODEX is not None
    plan = upstream.add(SocketPlan(answers=[ANSWERS[0]], rate_limits=True))
    via = Via("reverse", upstream, proxies["reverse"])
    home = tmp_path / "codex-home"
    home.mkdir()
    (home / "config.toml").write_text(CODEX_CONFIG.format(base_url=via.base_url(plan)))
    env = mitmdump_env()
    dead = "http://127.0.0.1:9"
    env.update(CODEX_HOME=str(home), FAKE_OPENAI_KEY=FAKE_KEY, HTTPS_PROXY=dead, HTTP_PROXY=dead)
    env.update(ALL_PROXY=dead, NO_PROXY="127.0.0.1,localhost")
    result = subprocess.run(
        [CODEX, "exec", "--skip-git-repo-check", "--json", "say hi"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Hey! How can I help you today?" in result.stdout
    prewarm, turn = via.records(plan, 2)
    assert prewarm["extras"]["websocket"]["prewarm"] is True
    assert prewarm["request"]["body"]["generate"] is False
    assert turn["request"]["body"]["previous_response_id"] == prewarm["response"]["id"]
    assert turn["complete"] is True, turn["errors"]
    assert strip_nulls(turn["response"]) == sdk_answer(ANSWERS[0])
    headers = {k.lower(): v for k, v in turn["request"]["headers"].items()}
    assert headers["authorization"] == "[REDACTED]"
    assert turn["session"]["id"] == headers["session-id"]
    for name, value in UPGRADE_HEADERS.items():
        assert turn["response_headers"][name] == value
    assert FAKE_KEY not in json.dumps([prewarm, turn])


# mitmweb ---------------------------------------------------------------------------------


def wait_for_flows(web: Mitmweb, count: int, timeout: float = 30) -> list[dict[str, Any]]:
    """The flows, once mitmweb has them and the addon has written its record line."""
    deadline = time.monotonic() + timeout
    while True:
        if web.process.poll() is not None:
            raise AssertionError(f"mitmweb exited: {web.log_tail()}")
        try:
            flows = web.get("/flows")
            if len(flows) >= count and "llm openai-responses" in web.log.read_text():
                return list(flows)
        except (urllib.error.URLError, ConnectionError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"mitmweb not ready: {web.log_tail()}")
        time.sleep(0.2)
