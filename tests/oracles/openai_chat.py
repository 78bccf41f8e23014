"""What the official openai SDK's Chat Completions stream helper makes of a stream.

`client.chat.completions.stream(...)` accumulates the chunks into a `ParsedChatCompletion`.
Nothing goes over a network: the SDK is pointed at an in-memory transport that answers with
the recorded body.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import openai
from openai.lib.streaming.chat import ChatCompletionStream

from tests.oracles import answering_client


@contextmanager
def _sdk_stream(body: bytes) -> Iterator[ChatCompletionStream[None]]:
    with answering_client(body) as http_client:
        client = openai.OpenAI(
            api_key="test",
            base_url="http://test.invalid",
            max_retries=0,
            http_client=http_client,
        )
        with client.chat.completions.stream(
            model="gpt-test",
            messages=[{"role": "user", "content": "hi"}],
        ) as stream:
            yield stream


def sdk_final_completion(body: bytes) -> dict[str, Any]:
    """`client.chat.completions.stream(...).get_final_completion()` for `body`, as JSON dict.

    Raises whatever the SDK raises (e.g. `LengthFinishReasonError` for `finish_reason:
    length`, errors on chunks without `choices`); the tests name those streams.
    """
    with _sdk_stream(body) as stream:
        completion = stream.get_final_completion()
    return completion.model_dump(mode="json")


def sdk_accumulated_snapshot(body: bytes) -> dict[str, Any]:
    """The helper's plain accumulation of `body`, without the final parse step.

    `get_final_completion()` raises on `finish_reason` "length" or "content_filter" although
    the stream accumulated fine; its snapshot is the accumulation to compare with there.
    """
    with _sdk_stream(body) as stream:
        stream.until_done()
        snapshot = stream.current_completion_snapshot
    return snapshot.model_dump(mode="json")
