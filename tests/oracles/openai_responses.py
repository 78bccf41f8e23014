"""What the official openai SDK's Responses stream helper makes of a recorded stream.

Nothing goes over a network: the SDK is pointed at an in-memory transport that answers with the
recorded body.
"""

from __future__ import annotations

from typing import Any

import openai

from tests.oracles import answering_client, quiet_dump_warnings


def sdk_final_response(body: bytes) -> dict[str, Any]:
    """`client.responses.stream(...).get_final_response()` for `body`, as a JSON-mode dict.

    Raises whatever the SDK raises (e.g. on a resumed stream without `response.created`, or
    one that never sends `response.completed`; the tests name those).
    """

    with quiet_dump_warnings(), answering_client(body) as http_client:
        client = openai.OpenAI(
            api_key="test",
            base_url="http://test.invalid",
            max_retries=0,
            http_client=http_client,
        )
        with client.responses.stream(model="gpt-test", input="hi") as stream:
            return stream.get_final_response().model_dump(mode="json")
