"""The WebSocket addon in mitmproxy's test context: hooks, publishing, metadata, commands, view."""

from __future__ import annotations

import io as stdio
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mitmproxy import contentviews, eventsequence, http, io
from mitmproxy.addons.view import View
from mitmproxy.test import taddons, tflow
from mitmproxy.websocket import WebSocketMessage
from wsproto.frame_protocol import Opcode

from addon.proxy.commands import LLMCommands
from addon.proxy.hooks import LLMRebuild
from addon.proxy.websocket import LLMWebSocket
from addon.record import Record
from addon.record.redact import MASK
from addon.sinks.metadata import SOCKET_KEY, socket_records
from tests.conftest import dumps_in
from tests.oracles import strip_nulls
from tests.socket_streams import ANSWERS, create, payloads, rate_limits, sdk_response

KEY = "sk-proj-TEST-websocket-secret"
UPGRADE_HEADERS = {
    "openai-model": "gpt-5-codex",
    "x-codex-turn-state": "turn-state-1",
    "x-models-etag": 'W/"etag-1"',
    "x-reasoning-included": "true",
}


class Addons:
    """The rebuild addon, the WebSocket addon and the commands, in one test context."""

    def __init__(self, tctx: taddons.context, rebuild: LLMRebuild, ws: LLMWebSocket) -> None:
        self.tctx, self.rebuild, self.ws = tctx, rebuild, ws
        self.published: list[Record] = []
        rebuild.listeners.append(self.published.append)

    def drive(self, flow: http.HTTPFlow, messages: list[tuple[bool, str]], **close: Any) -> None:
        """The hooks as mitmproxy calls them live: start, each message, end."""
        self.ws.websocket_start(flow)
        for from_client, text in messages:
            send(self, flow, from_client, text)
        end(self, flow, **close)


@pytest.fixture
def addons(tmp_path: Path) -> Iterator[Addons]:
    rebuild = LLMRebuild()
    ws = LLMWebSocket(rebuild)
    view = View()
    with taddons.context(rebuild, ws, view) as tctx:
        tctx.master.addons.register(LLMCommands(rebuild.resolver))
        tctx.configure(rebuild, llm_dump_dir=str(tmp_path / "dumps"))
        yield Addons(tctx, rebuild, ws)


def socket_flow(
    host: str = "api.openai.com", path: str = "/v1/responses", port: int = 443
) -> http.HTTPFlow:
    flow = tflow.twebsocketflow()
    flow.websocket.messages = []
    flow.websocket.close_code = None
    flow.websocket.timestamp_end = None
    flow.request.host, flow.request.port, flow.request.path = host, port, path
    flow.request.scheme = "https" if port == 443 else "http"
    flow.request.headers["authorization"] = f"Bearer {KEY}"
    flow.request.headers["session-id"] = "session-1"
    flow.response.headers.update(UPGRADE_HEADERS)
    flow.response.headers["sec-websocket-extensions"] = "permessage-deflate"
    return flow


def send(addons: Addons, flow: http.HTTPFlow, from_client: bool, text: str) -> None:
    at = flow.websocket.messages[-1].timestamp + 0.01 if flow.websocket.messages else 946681210.0
    message = WebSocketMessage(Opcode.TEXT, from_client, text.encode(), at)
    flow.websocket.messages.append(message)
    addons.ws.websocket_message(flow)


def end(addons: Addons, flow: http.HTTPFlow, code: int = 1000, by_client: bool = True) -> None:
    flow.websocket.close_code = code
    flow.websocket.closed_by_client = by_client
    last = flow.websocket.messages[-1].timestamp if flow.websocket.messages else 946681210.0
    flow.websocket.timestamp_end = last + 0.01
    addons.ws.websocket_end(flow)
    flow.live = False


def turns(*answers: str, lane: str | None = None) -> list[tuple[bool, str]]:
    out: list[tuple[bool, str]] = []
    for answer in answers:
        out.append((True, create(lane=lane, input=answer, api_key=KEY)))
        out.extend((False, t) for t in payloads(answer))
    return out


# Publishing and the metadata ------------------------------------------------------------------


def test_each_response_is_published_the_moment_it_ends(addons: Addons, tmp_path: Path):
    flow = socket_flow()
    addons.ws.websocket_start(flow)
    first, second = turns(ANSWERS[0]), turns(ANSWERS[3])
    for from_client, text in first:
        send(addons, flow, from_client, text)
    assert len(addons.published) == 1 and len(dumps_in(tmp_path / "dumps")) == 1
    for from_client, text in second:
        send(addons, flow, from_client, text)
    assert len(addons.published) == 2
    end(addons, flow)
    assert len(addons.published) == 2  # a clean close with nothing running adds nothing
    names = sorted(p.name for p in (tmp_path / "dumps").glob("*.json"))
    assert [n.rsplit("-", 1)[-1][-8:] for n in names] == [".r0.json", ".r1.json"]
    assert all(flow.id in n for n in names)


def test_a_record_holds_the_create_the_upgrade_headers_and_the_101(addons: Addons):
    flow = socket_flow()
    addons.drive(flow, turns(ANSWERS[0], ANSWERS[1]))
    stored = flow.metadata[SOCKET_KEY]
    assert [r["socket_index"] for r in stored["records"]] == [0, 1]
    assert stored["messages"] == [] and stored["messages_kept"] is True
    record = stored["records"][1]
    assert record["flow_id"] == flow.id and record["provider"] == "openai-responses"
    assert record["status_code"] == 101 and record["complete"] is True
    request = record["request"]
    assert request["method"] == "GET" and request["url"] == "https://api.openai.com/v1/responses"
    assert request["headers"]["authorization"] == MASK
    assert request["body"]["type"] == "response.create"
    assert request["body"]["input"] == ANSWERS[1] and request["body"]["api_key"] == MASK
    for name, value in UPGRADE_HEADERS.items():
        assert record["response_headers"][name] == value
    assert strip_nulls(record["response"]) == sdk_response(payloads(ANSWERS[1]))
    assert record["timing"]["time_to_first_byte"] == pytest.approx(0.01, abs=1e-3)
    assert record["session"]["id"] == "session-1"
    assert KEY not in json.dumps(flow.metadata[SOCKET_KEY])


def test_the_log_line_names_the_model_and_its_dump(addons: Addons, caplog):
    flow = socket_flow()
    with caplog.at_level(logging.INFO):
        addons.drive(flow, turns(ANSWERS[1]))
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("llm ")]
    assert len(lines) == 1
    assert lines[0].startswith("llm openai-responses gpt-5") and "HTTP 101" not in lines[0]
    assert lines[0].endswith(".r0.json")


@pytest.mark.parametrize(
    ("host", "path", "port"),
    [
        ("chatgpt.com", "/backend-api/codex/responses", 443),
        ("gateway.internal", "/openai/v1/responses", 8080),
        ("127.0.0.1", "/v1/responses?client=codex", 8082),
    ],
)
def test_codex_paths_prefixes_and_any_host_are_routed(addons: Addons, host, path, port):
    flow = socket_flow(host, path, port)
    addons.drive(flow, turns(ANSWERS[0]))
    assert len(socket_records(flow.metadata) or []) == 1


@pytest.mark.parametrize("path", ["/ws", "/v1/chat/completions", "/v1/realtime"])
def test_other_websockets_are_left_alone(addons: Addons, path: str):
    flow = socket_flow(path=path)
    addons.drive(flow, turns(ANSWERS[0]))
    assert SOCKET_KEY not in flow.metadata and addons.published == []


def test_a_connection_lost_mid_response_gives_what_arrived_incomplete(addons: Addons):
    flow = socket_flow()
    texts = payloads(ANSWERS[2])
    messages = [(True, create()), *((False, t) for t in texts[:50])]
    addons.drive(flow, messages, code=1006, by_client=False)
    (record,) = addons.published
    assert record.complete is False
    assert record.errors[0] == (
        "the connection was lost (code 1006 ABNORMAL_CLOSURE) before the response ended"
    )
    assert record.response is not None and record.events == 50


def test_the_client_hanging_up_mid_response_says_so(addons: Addons):
    flow = socket_flow()
    messages = [(True, create()), *((False, t) for t in payloads(ANSWERS[2])[:9])]
    addons.drive(flow, messages, code=1000, by_client=True)
    (record,) = addons.published
    assert record.errors[0] == (
        "the socket was closed by the client (code 1000 NORMAL_CLOSURE) before the response ended"
    )


def test_the_sockets_own_messages_are_kept_in_its_metadata(addons: Addons):
    flow = socket_flow()
    texts = payloads(ANSWERS[0])
    response_id = json.loads(texts[0])["response"]["id"]
    ack = json.dumps({"type": "response.processed", "response_id": response_id})
    addons.drive(flow, [*turns(ANSWERS[0]), (True, ack), (False, rate_limits())])
    kept = flow.metadata[SOCKET_KEY]["messages"]
    assert [m["type"] for m in kept] == ["response.processed", "codex.rate_limits"]
    assert kept[0]["socket_index"] == 0


def test_no_state_is_kept_once_the_socket_ends(addons: Addons):
    flow = socket_flow()
    addons.drive(flow, turns(*ANSWERS[:3]))
    assert addons.ws.sockets == {} and addons.rebuild.captures == {}


def test_a_socket_joined_while_running_catches_up_on_its_earlier_messages(addons: Addons):
    flow = socket_flow()
    messages = turns(ANSWERS[0], ANSWERS[3])
    for from_client, text in messages[:5]:  # the addon was not loaded yet
        flow.websocket.messages.append(
            WebSocketMessage(Opcode.TEXT, from_client, text.encode(), 946681210.0)
        )
    for from_client, text in messages[5:]:
        send(addons, flow, from_client, text)
    end(addons, flow)
    assert [r.socket_index for r in addons.published] == [0, 1]
    assert all(r.complete for r in addons.published)


def test_letting_messages_go_keeps_the_records_and_marks_the_flow(addons: Addons):
    addons.tctx.options.update(llm_ws_keep_messages=False)
    flow = socket_flow()
    addons.drive(flow, turns(ANSWERS[0], ANSWERS[1]))
    assert len(flow.websocket.messages) == 1
    assert flow.metadata[SOCKET_KEY]["messages_kept"] is False
    assert [r["complete"] for r in flow.metadata[SOCKET_KEY]["records"]] == [True, True]


def test_a_refused_upgrade_is_a_record_of_its_http_error(addons: Addons):
    flow = socket_flow()
    flow.websocket = None
    flow.response = http.Response.make(
        401, b'{"error": {"message": "bad key", "type": "invalid_request_error"}}',
        {"content-type": "application/json"},
    )  # fmt: skip
    addons.rebuild.response(flow)
    addons.ws.response(flow)
    (record,) = addons.published
    assert record.status_code == 401 and record.complete is False
    assert record.errors == ["HTTP 401: invalid_request_error: bad key"]
    assert flow.metadata["llm_rebuild"]["errors"] == record.errors
    addons.rebuild.response(flow)  # read again from a capture: the rebuild addon takes it
    addons.ws.response(flow)
    assert len(addons.published) == 2


def test_sockets_still_open_when_the_proxy_stops_end_there(addons: Addons):
    flow = socket_flow()
    addons.ws.websocket_start(flow)
    for from_client, text in [(True, create()), *((False, t) for t in payloads(ANSWERS[2])[:9])]:
        send(addons, flow, from_client, text)
    addons.ws.done()
    (record,) = addons.published
    assert record.errors[0] == "the proxy stopped before the response ended"
    assert addons.ws.sockets == {} and addons.ws.flows == {}


def test_a_failure_of_ours_is_noted_on_the_flow_and_the_socket_goes_on(addons, monkeypatch):
    flow = socket_flow()
    addons.ws.websocket_start(flow)

    def broken(*args: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(addons.ws, "_read", broken)
    send(addons, flow, True, create())
    assert flow.metadata[SOCKET_KEY]["errors"] == [
        "llm-rebuild websocket_message: RuntimeError('boom')"
    ]


# Offline: the same hooks over a saved capture -------------------------------------------------


def saved_and_loaded(flow: http.HTTPFlow) -> http.HTTPFlow:
    buffer = stdio.BytesIO()
    io.FlowWriter(buffer).add(flow)
    buffer.seek(0)
    (loaded,) = list(io.FlowReader(buffer).stream())
    assert isinstance(loaded, http.HTTPFlow)
    return loaded


def replayed(flow: http.HTTPFlow, tmp_path: Path) -> list[dict[str, Any]]:
    """What `mitmdump -nr` does with the flow: every hook of its event sequence, in a fresh
    proxy; the records it publishes."""
    rebuild = LLMRebuild()
    ws = LLMWebSocket(rebuild)
    published: list[Record] = []
    rebuild.listeners.append(published.append)
    with taddons.context(rebuild, ws) as tctx:
        tctx.configure(rebuild, llm_dump_dir=str(tmp_path / "replayed"))
        for hook in eventsequence.iterate(flow):
            tctx.master.addons.invoke_addon_sync(rebuild, hook)
            tctx.master.addons.invoke_addon_sync(ws, hook)
    return [r.to_json() for r in published]


def test_a_capture_read_again_gives_the_same_records(addons: Addons, tmp_path: Path):
    flow = socket_flow()
    cut = [(True, create()), *((False, t) for t in payloads(ANSWERS[2])[:30])]
    addons.drive(flow, [*turns(ANSWERS[0], ANSWERS[4]), *cut], code=1006, by_client=False)
    live = [r.to_json() for r in addons.published]
    loaded = saved_and_loaded(flow)
    loaded.metadata.clear()  # as a capture made without the addon
    again = replayed(loaded, tmp_path)
    assert len(again) == 3
    for a, b in zip(live, again, strict=True):
        a.pop("session"), b.pop("session")  # turn numbers depend on the proxy's history
        assert a == b
    names = sorted(p.name for p in (tmp_path / "replayed").glob("*.json"))
    assert names == sorted(p.name for p in (tmp_path / "dumps").glob("*.json"))


def test_a_capture_whose_messages_were_let_go_keeps_its_live_records(addons, tmp_path):
    addons.tctx.options.update(llm_ws_keep_messages=False)
    flow = socket_flow()
    addons.drive(flow, turns(ANSWERS[0], ANSWERS[1]))
    loaded = saved_and_loaded(flow)
    assert replayed(loaded, tmp_path) == []
    assert [r["complete"] for r in loaded.metadata[SOCKET_KEY]["records"]] == [True, True]


# Commands and the view ---------------------------------------------------------------------


def test_llm_dump_writes_one_line_per_response_of_a_socket(addons: Addons, tmp_path: Path):
    flow = socket_flow()
    addons.drive(flow, turns(ANSWERS[0], ANSWERS[1], ANSWERS[3]))
    out = tmp_path / "socket.jsonl"
    addons.tctx.master.commands.call("llm.dump", [flow], str(out))
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["socket_index"] for line in lines] == [0, 1, 2]
    assert lines == flow.metadata[SOCKET_KEY]["records"]


def test_llm_rebuild_gives_a_capture_made_without_the_addon_its_records(addons: Addons):
    flow = socket_flow()
    for from_client, text in turns(ANSWERS[0], ANSWERS[3]):
        flow.websocket.messages.append(
            WebSocketMessage(Opcode.TEXT, from_client, text.encode(), 946681210.0)
        )
    flow.websocket.close_code, flow.live = 1000, False
    addons.tctx.master.commands.call("llm.rebuild", [flow])
    records = flow.metadata[SOCKET_KEY]["records"]
    assert [(r["socket_index"], r["complete"]) for r in records] == [(0, True), (1, True)]
    assert records[0]["cost"] is not None or records[0]["cost_reason"]


def test_the_view_shows_each_rebuilt_response_where_it_ended(addons: Addons):
    flow = socket_flow()
    messages = turns(ANSWERS[0], ANSWERS[1])
    addons.drive(flow, messages)
    first_end = len(payloads(ANSWERS[0]))
    shown = contentviews.prettify_message(flow.websocket.messages[first_end], flow)
    assert shown.view_name == "LLM rebuilt"
    assert shown.text.startswith("response #0 of this socket: it ended here")
    assert "model        gpt-5" in shown.text and "(record kept by the addon)" in shown.text
    asked = contentviews.prettify_message(flow.websocket.messages[first_end + 1], flow)
    assert asked.view_name == "LLM rebuilt"
    assert f"asked for here; it ends at message {len(messages) - 1}" in asked.text
    delta = contentviews.prettify_message(flow.websocket.messages[3], flow)
    assert delta.view_name != "LLM rebuilt"


def test_the_view_shows_a_running_response_from_its_create(addons: Addons):
    flow = socket_flow()
    addons.ws.websocket_start(flow)
    for from_client, text in [(True, create()), *((False, t) for t in payloads(ANSWERS[2])[:40])]:
        send(addons, flow, from_client, text)
    asked = contentviews.prettify_message(flow.websocket.messages[0], flow)
    assert asked.text.startswith("response #0 of this socket: asked for here; it is still running")
    assert "(stream still running: what has arrived so far)" in asked.text


def test_llm_dump_redacts_stored_socket_records_with_todays_names(addons, tmp_path):
    flow = socket_flow()
    flow.request.headers["x-internal-token"] = "internal-secret-1"
    addons.drive(flow, turns(ANSWERS[0]))
    addons.tctx.configure(addons.rebuild, llm_redact=["x-internal-token"])
    out = tmp_path / "socket.jsonl"
    addons.tctx.master.commands.call("llm.dump", [flow], str(out))
    assert "internal-secret-1" not in out.read_text()


def test_the_view_rebuilds_a_socket_captured_without_the_addon():
    flow = socket_flow()
    for from_client, text in turns(ANSWERS[0]):
        flow.websocket.messages.append(
            WebSocketMessage(Opcode.TEXT, from_client, text.encode(), 946681210.0)
        )
    flow.live = False
    with taddons.context(LLMRebuild()):
        last = flow.websocket.messages[-1]
        shown = contentviews.prettify_message(last, flow)
    assert shown.view_name == "LLM rebuilt"
    assert "(rebuilt from the body now)" in shown.text
