"""What the official openai SDK's Responses stream helper makes of a recorded stream.

Nothing goes over a network: the SDK is pointed at an in-memory transport that answers with the
recorded body. The installed SDK is built on `httpx2` (the httpx fork it ships with), so the
transport comes from there.
"""

from __future__ import annotations

import warnings
from typing import Any

import httpx2
import openai


def sdk_final_response(body: bytes) -> dict[str, Any]:
    """`client.responses.stream(...).get_final_response()` for `body`, as a JSON-mode dict.

    Raises whatever the SDK raises (e.g. on a resumed stream without `response.created`, or
    one that never sends `response.completed`; the tests name those).
    """

    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    with warnings.catch_warnings():
        # Items and parts of a type the SDK does not know are built as some other model;
        # dumping them makes pydantic warn, while the dumped keys are still the ones that came.
        warnings.filterwarnings("ignore", "Pydantic serializer warnings", UserWarning)
        with httpx2.Client(transport=httpx2.MockTransport(answer)) as http_client:
            client = openai.OpenAI(
                api_key="test",
                base_url="http://test.invalid",
                max_retries=0,
                http_client=http_client,
            )
            with client.responses.stream(model="gpt-test", input="hi") as stream:
                return stream.get_final_response().model_dump(mode="json")
