"""Responses over a WebSocket, without a proxy: (from_client, text, timestamp) in, records out."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from addon.record.responses_socket import RECENT_IDS, ResponsesSocket, SocketResponse
from addon.wire.wsmessages import read_message
from tests.oracles import strip_nulls
from tests.socket_streams import (
    ANSWERS,
    create,
    on_lane,
    payloads,
    prewarm_answer,
    rate_limits,
    sdk_response,
    sse_record,
    transcript,
)

Message = tuple[bool, str]


class Clock:
    """Message timestamps one millisecond apart."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        self.now += 0.001
        return self.now


def run(
    messages: list[Message], *, close: str | bool = False
) -> tuple[list[SocketResponse], ResponsesSocket]:
    """Feed every message; `close`: also end the socket (a string is the problem)."""
    clock = Clock()
    socket = ResponsesSocket(opened=clock.now)
    out: list[SocketResponse] = []
    for from_client, text in messages:
        out.extend(socket.message(from_client, text, clock()))
    if close is not False:
        out.extend(socket.close(clock(), close if isinstance(close, str) else None))
    return out, socket


def server(texts: list[str]) -> list[Message]:
    return [(False, t) for t in texts]


def assert_as_over_sse(finished: SocketResponse, texts: list[str]) -> None:
    """The socket's record of a response is what the same events give over SSE."""
    record = finished.record.to_json()
    over_sse = sse_record(texts)
    for key in ("response", "complete", "errors", "usage", "unknown_events", "events"):
        assert record[key] == over_sse[key], key
    assert strip_nulls(record["response"]) == sdk_response(texts)


# One response, several, lanes ----------------------------------------------------------------


@pytest.mark.parametrize("answer", ANSWERS)
def test_one_create_and_its_events_give_the_response_sse_gives(answer: str):
    texts = payloads(answer)
    finished, socket = run([(True, create()), *server(texts)])
    assert len(finished) == 1
    assert finished[0].index == 0 and finished[0].record.socket_index == 0
    assert finished[0].record.complete is True
    assert_as_over_sse(finished[0], texts)
    assert socket.messages == [] and socket.running() == []


def test_each_create_starts_its_own_record_in_order_and_each_ends_at_its_terminal_event():
    answers = [payloads(a) for a in ANSWERS[:4]]
    messages: list[Message] = []
    ends = []
    for texts in answers:
        messages.append((True, create()))
        messages.extend(server(texts))
        ends.append(len(messages) - 1)
    clock = Clock()
    socket = ResponsesSocket(opened=clock.now)
    finished_at = []
    records = []
    for position, (from_client, text) in enumerate(messages):
        done = socket.message(from_client, text, clock())
        if done:
            finished_at.append(position)
            records.extend(done)
    assert finished_at == ends  # published when it ends, not when the socket closes
    assert [r.index for r in records] == [0, 1, 2, 3]
    for finished, texts in zip(records, answers, strict=True):
        assert_as_over_sse(finished, texts)
        assert finished.create is not None and json.loads(finished.create)["input"] == "hi"
    spans = [r.record.extras["websocket"]["span"] for r in records]
    starts = [0, *[e + 1 for e in ends[:-1]]]
    assert spans == [[s, e] for s, e in zip(starts, ends, strict=True)]


def test_two_lanes_at_once_each_give_their_own_record():
    a, b = payloads(ANSWERS[0]), payloads(ANSWERS[1])
    lane_a, lane_b = on_lane(a, "a"), on_lane(b, "b")
    messages: list[Message] = [(True, create(lane="a")), (True, create(lane="b"))]
    for i in range(max(len(a), len(b))):  # interleaved, as the server may send them
        messages.extend(server(lane_b[i : i + 1]))
        messages.extend(server(lane_a[i : i + 1]))
    finished, _ = run(messages)
    by_lane = {f.lane: f for f in finished}
    assert set(by_lane) == {"a", "b"}
    assert by_lane["a"].index == 0 and by_lane["b"].index == 1
    assert_as_over_sse(by_lane["a"], a)
    assert_as_over_sse(by_lane["b"], b)
    assert by_lane["a"].record.extras["websocket"]["lane"] == "a"


def test_a_lane_runs_its_creates_first_come_first_served():
    a, b = payloads(ANSWERS[0]), payloads(ANSWERS[3])
    messages: list[Message] = [
        (True, create(lane="x", input="first")),
        (True, create(lane="x", input="second")),
        *server(on_lane(a, "x")),
        *server(on_lane(b, "x")),
    ]
    finished, _ = run(messages)
    assert [json.loads(f.create or "")["input"] for f in finished] == ["first", "second"]
    assert_as_over_sse(finished[0], a)
    assert_as_over_sse(finished[1], b)
    assert finished[1].started < finished[0].ended  # waited from its create on


def test_the_default_lane_and_named_lanes_run_side_by_side():
    a, b = payloads(ANSWERS[0]), payloads(ANSWERS[3])
    lane_b = on_lane(b, "side")
    messages: list[Message] = [(True, create()), (True, create(lane="side"))]
    messages += server([a[0], lane_b[0], *a[1:], *lane_b[1:]])
    finished, _ = run(messages)
    assert [f.lane for f in finished] == [None, "side"]
    assert_as_over_sse(finished[0], a)
    assert_as_over_sse(finished[1], b)


# What goes beside a response ---------------------------------------------------------------


def test_a_prewarm_is_its_own_complete_record_marked_as_such():
    warm = prewarm_answer("resp_warm")
    finished, _ = run([(True, create(generate=False)), *server(warm)])
    record = finished[0].record
    assert record.complete is True
    assert record.extras["websocket"]["prewarm"] is True
    assert record.response["id"] == "resp_warm" and record.response["output"] == []


def test_rate_limits_and_queued_go_beside_the_response_never_inside_it():
    texts = payloads(ANSWERS[0])
    queued = json.dumps({**json.loads(texts[0]), "type": "response.queued"})
    messages = [(True, create()), (False, rate_limits()), (False, queued), *server(texts)]
    finished, socket = run(messages)
    record = finished[0].record
    beside = record.extras["websocket"]["messages"]
    assert [m["type"] for m in beside] == ["codex.rate_limits", "response.queued"]
    assert beside[0]["data"]["rate_limits"]["primary"]["used_percent"] == 9.0
    assert beside[0]["from"] == "server" and beside[0]["at"] >= 0
    assert "codex.rate_limits" not in json.dumps(record.response)
    assert record.unknown_events == []
    assert record.complete is True
    assert strip_nulls(record.response) == sdk_response(texts)
    assert finished[0].first_byte_at is not None
    assert socket.messages == []


def test_an_acknowledgement_after_the_end_is_kept_by_the_socket_naming_its_response():
    texts = payloads(ANSWERS[0])
    response_id = json.loads(texts[0])["response"]["id"]
    ack = json.dumps({"type": "response.processed", "response_id": response_id})
    finished, socket = run([(True, create()), *server(texts), (True, ack)])
    assert len(finished) == 1
    (kept,) = socket.messages
    assert kept["type"] == "response.processed" and kept["from"] == "client"
    assert kept["response_id"] == response_id and kept["socket_index"] == 0


def test_steering_and_its_answers_go_beside_the_response_they_name():
    texts = payloads(ANSWERS[2])
    response_id = json.loads(texts[0])["response"]["id"]
    steer = {"type": "response.steer", "previous_response_id": response_id, "input": "shorter"}
    accepted = {
        "type": "response.steer.accepted",
        "sequence_number": 3,
        "steer": {"id": "steer_1", "previous_response_id": response_id},
    }
    messages = [
        (True, create()),
        *server(texts[:3]),
        (True, json.dumps(steer)),
        (False, json.dumps(accepted)),
        *server(texts[3:]),
    ]
    finished, socket = run(messages)
    beside = finished[0].record.extras["websocket"]["messages"]
    assert [m["type"] for m in beside] == ["response.steer", "response.steer.accepted"]
    assert beside[0]["data"]["input"] == "shorter"
    assert finished[0].record.complete is True
    assert_as_over_sse(finished[0], texts)
    assert socket.messages == []


def test_a_response_the_server_starts_by_itself_after_steering_is_a_record_of_its_own():
    first = payloads(ANSWERS[0])
    first_id = json.loads(first[0])["response"]["id"]
    steered = json.loads(first[-1])
    steered["type"] = "response.incomplete"
    steered["response"]["status"] = "incomplete"
    steered["response"]["incomplete_details"] = {"reason": "steered"}
    successor = payloads(ANSWERS[3])
    messages = [(True, create()), *server([*first[:-1], json.dumps(steered)]), *server(successor)]
    finished, _ = run(messages)
    assert [f.index for f in finished] == [0, 1]
    assert finished[0].record.complete is True  # incomplete by choice: a whole answer
    assert finished[1].create is None
    assert finished[1].record.extras["websocket"]["successor_of"] == first_id
    assert_as_over_sse(finished[1], successor)


# Ends ------------------------------------------------------------------------------------


def test_a_socket_that_closes_mid_response_gives_it_complete_false_with_what_arrived():
    texts = payloads(ANSWERS[2])
    cut = texts[: len(texts) // 2]
    finished, _ = run([(True, create()), *server(cut)], close="connection lost (code 1006)")
    (only,) = finished
    record = only.record
    assert record.complete is False
    assert record.errors[0] == "connection lost (code 1006) before the response ended"
    over_sse = sse_record(cut)
    assert record.response == over_sse["response"]
    assert record.errors[1:] == over_sse["errors"]
    assert only.ended is not None


def test_a_create_still_waiting_when_the_socket_closes_is_recorded_without_a_response():
    finished, _ = run([(True, create()), (True, create())], close=True)
    assert [f.index for f in finished] == [0, 1]
    for f in finished:
        assert f.record.complete is False and f.record.response is None
        assert f.record.errors == ["the socket closed before the response started"]


def test_an_error_message_ends_its_response_incomplete():
    error = {
        "type": "error",
        "status": 400,
        "error": {
            "type": "invalid_request_error",
            "code": "previous_response_not_found",
            "message": "Previous response with id 'resp_x' not found.",
        },
    }
    texts = payloads(ANSWERS[0])
    messages = [(True, create()), (False, json.dumps(error)), (True, create()), *server(texts)]
    finished, _ = run(messages)
    assert [f.index for f in finished] == [0, 1]
    failed = finished[0].record
    assert failed.complete is False
    assert any("previous_response_not_found" in e for e in failed.errors)
    assert failed.unknown_events == [{"event": "error", "data": error}]
    assert_as_over_sse(finished[1], texts)


def test_an_error_naming_no_lane_goes_to_the_only_response_not_yet_answered():
    error = {"type": "error", "status": 400, "error": {"code": "invalid_stream_id"}}
    texts = on_lane(payloads(ANSWERS[0]), "ok")
    messages = [
        (True, create(lane="ok")),
        *server(texts[:2]),
        (True, create(lane="bad lane!")),
        (False, json.dumps(error)),
        *server(texts[2:]),
    ]
    finished, socket = run(messages)
    assert [(f.lane, f.record.complete) for f in finished] == [("bad lane!", False), ("ok", True)]
    assert socket.messages == []


def test_events_for_no_running_response_are_kept_by_the_socket():
    texts = payloads(ANSWERS[0])
    finished, socket = run([*server(texts[1:3])])
    assert finished == []
    assert [m["type"] for m in socket.messages] == [json.loads(t)["type"] for t in texts[1:3]]
    assert all(m["note"] == "no response was running on its lane" for m in socket.messages)


def test_binary_and_broken_messages_are_kept_and_never_raise():
    texts = payloads(ANSWERS[0])
    clock = Clock()
    socket = ResponsesSocket(opened=clock.now)
    socket.message(True, b"\x00\x01", clock(), is_text=False)
    socket.message(True, "not json", clock())
    socket.message(True, create(), clock())
    socket.message(False, "{broken", clock())
    finished = []
    for text in texts:
        finished += socket.message(False, text, clock())
    record = finished[0].record
    assert record.complete is False
    assert any("data is not JSON" in e for e in record.errors)
    problems = [m.get("problem", "") for m in socket.messages]
    assert problems[0] == "binary message (2 bytes)"
    assert problems[1].startswith("not JSON (")
    assert socket.messages[1]["data"] == "not json"


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.booleans(),
            st.one_of(
                st.sampled_from(
                    [
                        create(),
                        create(lane="a"),
                        create(generate=False),
                        *payloads(ANSWERS[0])[:4],
                        *on_lane(payloads(ANSWERS[3]), "a"),
                        rate_limits(),
                        '{"type": "error"}',
                        '{"type": "response.processed", "response_id": 5}',
                        '{"type": "response.steer.pending", "steer": 1}',
                        '{"stream_id": [1], "type": "response.created", "response": {"id": 3}}',
                        "[]",
                        "",
                    ]
                ),
                st.text(max_size=20),
            ),
        ),
        max_size=40,
    )
)
def test_any_sequence_of_messages_never_raises_and_every_create_gets_one_record(
    messages: list[Message],
):
    finished, socket = run(messages, close=True)
    indices = [f.index for f in finished]
    assert sorted(indices) == list(range(socket.asked))
    assert len(set(indices)) == len(indices)
    for f in finished:
        orjson.dumps(f.record.to_json())


# A recorded transcript, and memory ------------------------------------------------------------


def test_a_recorded_transcript_gives_one_record_per_response_equal_to_the_sdk():
    messages = transcript()
    finished, socket = run(messages)
    assert len(finished) == 2 and socket.messages == []
    groups: list[list[str]] = []
    for from_client, text in messages:
        if from_client:
            groups.append([])
        else:
            groups[-1].append(text)
    for f, texts in zip(finished, groups, strict=True):
        assert f.record.complete is True
        assert_as_over_sse(f, texts)
        body = json.loads(f.create or "")
        assert body["model"] == "gpt-5.4"


def test_an_hour_of_responses_keeps_no_state_of_the_ones_that_ended():
    texts = payloads(ANSWERS[3])
    clock = Clock()
    socket = ResponsesSocket(opened=clock.now)
    count = 0
    for turn in range(300):
        lane = None if turn % 3 else f"lane-{turn}"
        socket.message(True, create(lane=lane), clock())
        for text in on_lane(texts, lane):
            count += len(socket.message(False, text, clock()))
        socket.message(True, '{"type": "response.processed", "response_id": "x"}', clock())
    assert count == 300
    assert socket.running() == []
    assert all(lane.active is None and not lane.waiting for lane in socket._lanes.values())
    assert len(socket._recent) <= RECENT_IDS
    assert len(socket.messages) == 300  # the acknowledgements: the socket's own, kept


def test_a_running_response_can_be_looked_at_without_ending_it():
    texts = payloads(ANSWERS[2])
    clock = Clock()
    socket = ResponsesSocket(opened=clock.now)
    socket.message(True, create(), clock())
    for text in texts[:40]:
        socket.message(False, text, clock())
    (snapshot,) = socket.running()
    assert snapshot.ended is None and snapshot.record.complete is False
    assert snapshot.record.events == 40
    finished: list[Any] = []
    for text in texts[40:]:
        finished += socket.message(False, text, clock())
    assert_as_over_sse(finished[0], texts)


def test_a_message_reads_as_the_event_sse_would_have_carried():
    text = payloads(ANSWERS[0])[0]
    read = read_message(text.encode())
    assert read.event.event == "response.created" and read.event.data == text
    assert read.kind == "response.created" and read.problem is None
    assert read_message("[1]").problem == "not a JSON object"
    assert read_message('{"a": 1}').problem == "has no string `type`"
