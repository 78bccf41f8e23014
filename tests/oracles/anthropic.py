"""What the official anthropic SDK's beta stream helper makes of a Messages stream.

The beta helper is the oracle because it knows every block and delta type the plain one does
(plus `compaction`, `fallback`, `mcp_tool_use`). Nothing goes over a network: the SDK is
pointed at an in-memory transport that answers with the recorded body. The installed SDK is
built on `httpx2` (the httpx fork it ships with), so the transport comes from there.
"""

from __future__ import annotations

import warnings
from typing import Any

import anthropic
import httpx2


def sdk_final_message(body: bytes) -> dict[str, Any]:
    """`client.beta.messages.stream(...).get_final_message()` for `body`, as JSON-mode dict.

    Raises whatever the SDK raises (some streams make it fail; the tests name those).
    """

    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    with httpx2.Client(transport=httpx2.MockTransport(answer)) as http_client:
        client = anthropic.Anthropic(
            api_key="test",
            base_url="http://test.invalid",
            max_retries=0,
            http_client=http_client,
        )
        with client.beta.messages.stream(
            model="claude-test",
            max_tokens=1024,
            messages=[{"role": "user", "content": "hi"}],
        ) as stream:
            message = stream.get_final_message()
    with warnings.catch_warnings():
        # Blocks of a type the SDK does not know are built as text blocks; dumping them makes
        # pydantic warn, while the dumped keys are still the ones that came.
        warnings.filterwarnings("ignore", "Pydantic serializer warnings", UserWarning)
        return message.model_dump(mode="json")
