"""What the official anthropic SDK's beta stream helper makes of a Messages stream.

The beta helper is the oracle because it knows every block and delta type the plain one does
(plus `compaction`, `fallback`, `mcp_tool_use`). Nothing goes over a network: the SDK is
pointed at an in-memory transport that answers with the recorded body.
"""

from __future__ import annotations

from typing import Any

import anthropic

from tests.oracles import answering_client, quiet_dump_warnings


def sdk_final_message(body: bytes) -> dict[str, Any]:
    """`client.beta.messages.stream(...).get_final_message()` for `body`, as JSON-mode dict.

    Raises whatever the SDK raises (some streams make it fail; the tests name those).
    """

    with answering_client(body) as http_client:
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
    with quiet_dump_warnings():
        return message.model_dump(mode="json")
