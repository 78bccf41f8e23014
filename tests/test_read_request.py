"""Each provider reads its own requests for people (`Accumulator.read_request`), and the generic
reading gives APIs without one (Gemini, Ollama) something a person can read."""

from __future__ import annotations

import json

import pytest

from addon.providers import PROVIDERS
from addon.providers.base import Conversation, media_text, read_generic
from tests.oracles import CORPUS


def shown(conversation: Conversation) -> list[tuple[str, list[tuple[str, str | None, str]]]]:
    return [(m.role, [(p.kind, p.name, p.text) for p in m.parts]) for m in conversation.messages]


def read(provider: str, body: object) -> Conversation:
    return PROVIDERS[provider].accumulator.read_request(body)


ANTHROPIC = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 1024,
    "system": [
        {"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}},
    ],
    "tools": [
        {"name": "get_weather", "description": "Weather now", "input_schema": {"type": "object"}},
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},
    ],
    "messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "Use the tool.", "signature": "c2ln"},
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "get_weather",
                    "input": {"city": "Paris"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": [{"type": "text", "text": "18°C"}],
                },
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": "A" * 4000},
                },
                {"type": "text", "text": "Thanks", "cache_control": {"type": "ephemeral"}},
            ],
        },
    ],
    "stream": True,
}


@pytest.mark.parametrize("provider", ["anthropic-messages", "anthropic-vertex"])
def test_messages_requests_read_with_tool_results_named_and_no_image_bytes(provider):
    conversation = read(provider, ANTHROPIC)
    assert [(p.kind, p.text) for p in conversation.system] == [("text", "You are terse.")]
    assert [(t.name, t.kind) for t in conversation.tools] == [
        ("get_weather", "function"),
        ("web_search", "web_search_20250305"),
    ]
    assert conversation.tools[1].schema == {"max_uses": 3}
    assert shown(conversation) == [
        ("user", [("text", None, "Weather in Paris?")]),
        (
            "assistant",
            [("thinking", None, "Use the tool."), ("tool_call", "get_weather", '{"city":"Paris"}')],
        ),
        (
            "user",
            [
                ("tool_result", "get_weather", "18°C"),
                ("image", None, "image/png · 3.0 kB"),
                ("text", None, "Thanks"),
            ],
        ),
    ]
    assert conversation.settings == {
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "stream": True,
    }


def test_chat_requests_read_leading_system_messages_as_the_system_prompt():
    body = {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "No emoji."}]},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in this picture?"},
                    {
                        "type": "image_url",
                        "image_url": {"url": "data:image/jpeg;base64," + "A" * 800},
                    },
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "zoom", "arguments": '{"x":1}'},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "zoomed"},
            {"role": "assistant", "content": "A cat.", "refusal": None},
        ],
        "tools": [
            {
                "type": "function",
                "function": {"name": "zoom", "description": "Zoom in", "parameters": {}},
            }
        ],
        "functions": [{"name": "legacy", "parameters": {}}],
    }
    conversation = read("openai-chat", body)
    assert [p.text for p in conversation.system] == ["Be brief.", "No emoji."]
    assert [t.name for t in conversation.tools] == ["zoom", "legacy"]
    assert shown(conversation) == [
        (
            "user",
            [("text", None, "What is in this picture?"), ("image_url", None, "image/jpeg, 0.6 kB")],
        ),
        ("assistant", [("tool_call", "zoom", '{"x":1}')]),
        ("tool", [("tool_result", "zoom", "zoomed")]),
        ("assistant", [("text", None, "A cat.")]),
    ]


def test_responses_requests_read_items_calls_outputs_and_reasoning():
    body = {
        "model": "gpt-5",
        "instructions": "You are Codex.",
        "input": [
            {"role": "developer", "content": "Use the shell."},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "ls"}]},
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "Run it."}]},
            {
                "type": "function_call",
                "call_id": "c1",
                "name": "shell",
                "arguments": '{"cmd":"ls"}',
            },
            {"type": "function_call_output", "call_id": "c1", "output": "a.txt"},
            {"type": "item_reference", "id": "msg_9"},
        ],
        "tools": [{"type": "function", "name": "shell", "parameters": {}}, {"type": "web_search"}],
    }
    conversation = read("openai-responses", body)
    assert [p.text for p in conversation.system] == ["You are Codex.", "Use the shell."]
    assert [(t.name, t.kind) for t in conversation.tools] == [
        ("shell", "function"),
        ("web_search", "web_search"),
    ]
    assert shown(conversation) == [
        ("user", [("text", None, "ls")]),
        ("assistant", [("thinking", None, "Run it.")]),
        ("assistant", [("tool_call", "shell", '{"cmd":"ls"}')]),
        ("tool", [("tool_result", "shell", "a.txt")]),
        ("reference", [("item_reference", None, '{"id":"msg_9"}')]),
    ]
    assert shown(read("openai-responses", {"input": "Hello"})) == [
        ("user", [("text", None, "Hello")])
    ]


def test_completions_requests_read_prompts_batches_token_ids_and_suffix():
    read_completion = PROVIDERS["openai-completions"].accumulator.read_request
    assert shown(read_completion({"prompt": "The capital of France is", "suffix": "."})) == [
        ("prompt", [("text", None, "The capital of France is")]),
        ("suffix", [("text", None, ".")]),
    ]
    assert [m.parts[0].text for m in read_completion({"prompt": ["a", "b"]}).messages] == ["a", "b"]
    assert shown(read_completion({"prompt": [1, 2, 3]})) == [
        ("prompt", [("text", None, "token ids: [1,2,3]")])
    ]


CONVERSE = {
    "system": [{"text": "You are an expert."}, {"cachePoint": {"type": "default"}}],
    "messages": [
        {
            "role": "user",
            "content": [
                {"text": "Sum 1..10"},
                {"image": {"format": "png", "source": {"bytes": "A" * 400}}},
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"reasoningContent": {"reasoningText": {"text": "Gauss.", "signature": "x"}}},
                {"toolUse": {"toolUseId": "t1", "name": "calc", "input": {"expr": "sum(1..10)"}}},
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "toolResult": {
                        "toolUseId": "t1",
                        "content": [{"json": {"v": 55}}],
                        "status": "error",
                    }
                }
            ],
        },
    ],
    "toolConfig": {
        "tools": [
            {
                "toolSpec": {
                    "name": "calc",
                    "description": "Math",
                    "inputSchema": {"json": {"type": "object"}},
                }
            },
            {"cachePoint": {"type": "default"}},
        ]
    },
    "inferenceConfig": {"maxTokens": 100},
}


def test_converse_requests_read_blocks_by_their_key_and_leave_cache_points_out():
    conversation = read("bedrock-converse", CONVERSE)
    assert [p.text for p in conversation.system] == ["You are an expert."]
    assert [(t.name, t.schema) for t in conversation.tools] == [("calc", {"type": "object"})]
    assert shown(conversation) == [
        ("user", [("text", None, "Sum 1..10"), ("image", None, "png · 0.3 kB")]),
        (
            "assistant",
            [("thinking", None, "Gauss."), ("tool_call", "calc", '{"expr":"sum(1..10)"}')],
        ),
        ("user", [("tool_error", "calc", '{"v":55}')]),
    ]
    assert conversation.settings == {"inferenceConfig": {"maxTokens": 100}}


def test_invoke_requests_read_by_the_model_familys_shape():
    claude = {"anthropic_version": "bedrock-2023-05-31", **ANTHROPIC}
    assert shown(read("bedrock-invoke", claude)) == shown(read("anthropic-messages", ANTHROPIC))
    nova = {"messages": [{"role": "user", "content": [{"text": "Hi Nova"}]}], "inferenceConfig": {}}
    assert shown(read("bedrock-invoke", nova)) == [("user", [("text", None, "Hi Nova")])]
    titan = {"inputText": "Hi Titan", "textGenerationConfig": {"maxTokenCount": 5}}
    assert shown(read("bedrock-invoke", titan)) == [("user", [("text", None, "Hi Titan")])]
    cohere = {
        "message": "Hi",
        "chat_history": [{"role": "USER", "message": "Before"}],
        "preamble": "Be kind",
    }
    conversation = read("bedrock-invoke", cohere)
    assert [p.text for p in conversation.system] == ["Be kind"]
    assert shown(conversation) == [
        ("user", [("text", None, "Before")]),
        ("user", [("text", None, "Hi")]),
    ]


GEMINI = {
    "systemInstruction": {"parts": [{"text": "You describe images."}], "role": "user"},
    "contents": [
        {
            "role": "user",
            "parts": [
                {"text": "Describe this."},
                {"fileData": {"fileUri": "https://example.com/cat.jpg", "mimeType": "image/jpeg"}},
                {"inlineData": {"mimeType": "audio/wav", "data": "A" * 1000}},
            ],
        },
        {
            "role": "model",
            "parts": [
                {"text": "Let me think.", "thought": True},
                {"functionCall": {"name": "zoom", "args": {"x": 2}}},
            ],
        },
        {
            "role": "user",
            "parts": [{"functionResponse": {"name": "zoom", "response": {"ok": True}}}],
        },
    ],
    "tools": [
        {"functionDeclarations": [{"name": "zoom", "description": "Zoom", "parameters": {}}]},
        {"googleSearch": {}},
    ],
    "generationConfig": {"temperature": 0.2},
}


def test_the_generic_reading_reads_gemini_contents_parts_and_tools():
    conversation = read_generic(GEMINI)
    assert [p.text for p in conversation.system] == ["You describe images."]
    assert [t.name for t in conversation.tools] == ["zoom", "googleSearch"]
    assert shown(conversation) == [
        (
            "user",
            [
                ("text", None, "Describe this."),
                ("image", None, "image/jpeg · https://example.com/cat.jpg"),
                ("audio", None, "audio/wav · 0.8 kB"),
            ],
        ),
        ("model", [("thinking", None, "Let me think."), ("tool_call", "zoom", '{"x":2}')]),
        ("user", [("tool_result", "zoom", '{"ok":true}')]),
    ]
    assert conversation.settings == {"generationConfig": {"temperature": 0.2}}


def test_the_generic_reading_reads_ollama_chat_and_generate_bodies():
    chat = {
        "model": "llama3",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What is this?", "images": ["A" * 3000]},
            {
                "role": "assistant",
                "content": "",
                "thinking": "Hmm.",
                "tool_calls": [
                    {"function": {"name": "look", "arguments": {"at": "image"}}},
                ],
            },
            {"role": "tool", "content": "a cat", "tool_name": "look"},
        ],
        "options": {"temperature": 0},
    }
    assert shown(read_generic(chat)) == [
        ("system", [("text", None, "Be brief.")]),
        ("user", [("text", None, "What is this?"), ("image", None, "2.2 kB")]),
        ("assistant", [("thinking", None, "Hmm."), ("tool_call", "look", '{"at":"image"}')]),
        ("tool", [("tool_result", "look", "a cat")]),
    ]
    generate = {
        "model": "llama3",
        "system": "Be brief.",
        "prompt": "Why is the sky blue?",
        "context": [1] * 500,
    }
    conversation = read_generic(generate)
    assert [p.text for p in conversation.system] == ["Be brief."]
    assert shown(conversation) == [("user", [("text", None, "Why is the sky blue?")])]
    assert "context" not in conversation.settings  # too long for a settings line


def test_the_generic_reading_opens_a_request_in_an_envelope():
    """Gemini Code Assist sends `{model, project, request: {contents, ...}}`."""
    wrapped = {"model": "gemini-2.5-pro", "project": "p", "request": GEMINI}
    conversation = read_generic(wrapped)
    assert shown(conversation) == shown(read_generic(GEMINI))
    assert conversation.settings["model"] == "gemini-2.5-pro"


@pytest.mark.parametrize("body", [None, "", "plain text", 42, [1, 2], {"weird": {"deep": [1]}}])
def test_every_reading_takes_any_json_without_raising(body):
    for provider in PROVIDERS.values():
        assert isinstance(provider.accumulator.read_request(body), Conversation)
    assert isinstance(read_generic(body), Conversation)


def test_media_is_named_by_type_and_size_never_by_its_bytes():
    data = "QUJD" * 10_000
    assert (
        media_text({"type": "base64", "media_type": "image/png", "data": data})
        == "image/png · 30.0 kB"
    )
    assert data not in media_text({"url": f"data:image/gif;base64,{data}"})
    assert media_text({"type": "url", "url": "https://x.test/a.pdf"}) == "https://x.test/a.pdf"


RECORDED = [
    ("bedrock/converse", "bedrock-converse"),
    ("bedrock/invoke", "bedrock-invoke"),
    ("gemini/ai-studio", None),
    ("ollama/stream", None),
]


@pytest.mark.parametrize(("folder", "provider"), RECORDED)
def test_recorded_requests_read_into_messages_with_text(folder, provider):
    metas = sorted((CORPUS / folder).glob("*.meta.json"))
    assert metas
    reader = PROVIDERS[provider].accumulator.read_request if provider else read_generic
    for meta in metas:
        data = json.loads(meta.read_text())
        body = data.get("request_body")
        if body is None:  # a hand-built answer with no request
            continue
        if isinstance(body, str):
            body = json.loads(body)
        texts = [p.text for m in reader(body).messages for p in m.parts]
        assert any(texts), meta.name
