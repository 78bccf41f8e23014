"""A WebSocket message is parsed once: the Responses fold given that parse (`feed_parsed`)
ends exactly where the same events fed as text (`feed`, which parses them itself) end."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from addon.providers.openai_responses import OpenAIResponses
from addon.record.responses_socket import ResponsesSocket
from addon.wire.wsmessages import read_message
from tests.socket_streams import ANSWERS, create, on_lane, payloads

EVENTS = [text for answer in ANSWERS for text in payloads(answer)]


def _state(acc: OpenAIResponses) -> bytes:
    acc.finish()
    return orjson.dumps(
        [acc.result(), acc.errors, acc.unknown, acc.extras, acc.done, acc.content_started],
        option=orjson.OPT_NON_STR_KEYS,
    )


def _mutate(text: str, how: int) -> str:
    """An event made odd the ways a stream can be: cut, no type, a wrong index, a null."""
    if how == 1:
        return text[: len(text) // 2]
    data: Any = orjson.loads(text)
    if how == 2:
        data.pop("type", None)
    elif how == 3 and "output_index" in data:
        data["output_index"] = 99
    elif how == 4 and "delta" in data:
        data["delta"] = None
    elif how == 5:
        data = [data]
    return orjson.dumps(data).decode()


events = st.lists(
    st.tuples(st.sampled_from(EVENTS), st.integers(min_value=0, max_value=12)), max_size=40
)


@settings(max_examples=60, deadline=None)
@given(events)
def test_feed_parsed_ends_where_feed_ends_on_any_sequence_of_events(chosen):
    texts = [_mutate(text, how) for text, how in chosen]
    by_text, by_parse = OpenAIResponses(), OpenAIResponses()
    for text in texts:
        read = read_message(text)
        by_text.feed(read.event)
        if read.kind is not None:
            by_parse.feed_parsed(read.event, read.data)
        else:
            by_parse.feed(read.event)
    assert _state(by_parse) == _state(by_text)


def test_every_recorded_answer_gives_the_same_record_over_a_socket_as_folded_from_text():
    for answer in ANSWERS:
        texts = on_lane(payloads(answer), "lane")
        socket = ResponsesSocket(0.0)
        finished = socket.message(True, create(lane="lane"), 0.0)
        for n, text in enumerate(texts, start=1):
            finished += socket.message(False, text.encode(), n / 1000)
        acc = OpenAIResponses()
        for text in texts:
            acc.feed(read_message(text).event)
        acc.finish()
        assert finished[0].record.response == acc.result()
        assert finished[0].record.errors == acc.errors


contents = st.one_of(
    st.sampled_from(EVENTS).map(str.encode),
    st.binary(max_size=40),
    st.text(max_size=40).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from(EVENTS).map(lambda t: t.encode()[: len(t) // 2] + b"\xff\xfe"),
    st.sampled_from(['{"type": 1}', "[1, 2]", '"x"', "null", '{"type":"a"}']).map(str.encode),
)


@settings(max_examples=150, deadline=None)
@given(contents)
def test_a_message_read_from_its_bytes_is_the_message_read_from_its_text(content):
    """orjson parses the bytes as they came; what it gives must be what the decoded text
    gives (the text is what the event carries), valid UTF-8 or not, JSON or not."""
    as_bytes = read_message(content)
    as_text = read_message(content.decode("utf-8", "replace"))
    assert as_bytes.event == as_text.event
    assert as_bytes.kind == as_text.kind and as_bytes.problem == as_text.problem
    assert orjson.dumps(as_bytes.data) == orjson.dumps(as_text.data)
