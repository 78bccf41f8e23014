"""OpenAI legacy Completions: fold streamed `text_completion` chunks into one `text_completion`.

`POST /v1/completions` is gone from most of OpenAI's models but still served by vLLM, llama.cpp,
TGI, LM Studio, Azure and others. Each chunk carries, per choice, the next piece of `text` and
maybe its `logprobs`; the last choice chunk says `finish_reason`; with `stream_options:
{"include_usage": true}` a final chunk with `choices: []` carries `usage`; `data: [DONE]` ends.

The openai SDK has no stream helper for it, so the target is the non-streamed `Completion`
object (`openai.types.Completion`):
- choices are matched by `index`; `text` is joined; the `logprobs` lists (`tokens`,
  `token_logprobs`, `top_logprobs`, `text_offset`) are joined; vLLM's per-chunk `token_ids`
  are joined too;
- `finish_reason` and any other choice field keep their latest value, which neither a null
  nor an empty object erases; top-level fields likewise (`usage` from the usage chunk);
- the chunk that opens the first choice gives `id` and `created` when its `id` is not empty;
- unknown fields are kept; an `error` chunk is reported (and merged when it has `choices`).
"""

from __future__ import annotations

from typing import Any

import orjson

from addon.providers.base import (
    JSON,
    Conversation,
    Message,
    Part,
    Provider,
    Route,
    Sample,
    Summary,
    Usage,
    count,
    json_text,
    read_generic,
    settings_of,
)
from addon.providers.openai_chat.chunks import ChunkStream
from addon.providers.openai_chat.merge import _copy
from addon.providers.openai_chat.summary import describe_error
from addon.wire import Event

_OBJECT = "text_completion"
# The `logprobs` lists that grow by one entry per token.
_LOGPROB_LISTS = frozenset(("tokens", "token_logprobs", "top_logprobs", "text_offset"))
# Choice keys with their own rules.
_STREAMED_CHOICE_KEYS = frozenset(("index", "text", "logprobs", "finish_reason", "token_ids"))


class OpenAICompletions(ChunkStream):
    provider = "openai-completions"
    chunk_object = _OBJECT

    def __init__(self) -> None:
        super().__init__()
        self._chunks = 0
        self._top: JSON = {}
        """Top-level fields, latest non-null value each (`choices` only marks its place)."""
        self._choices: dict[int, JSON] = {}
        """Choice index → its fields; `text` and `token_ids` as lists of pieces."""
        self._opening: JSON | None = None
        """The chunk that opened the first choice (its `id` and `created` name the answer)."""

    def _feed(self, event: Event) -> None:
        try:
            chunk = orjson.loads(event.data)
        except orjson.JSONDecodeError as exc:
            self._not_json(event, exc)
            return
        choices = self._choices_of(event, chunk)
        if choices is None:
            return
        if self._opening is None:
            self._opening = chunk
        for choice in choices:
            if type(choice) is dict:
                self._merge_choice(choice)
            else:
                self.errors.append(f"chunk #{self._chunks}: a choice is not an object; ignored")

    def _merge_choice(self, choice: JSON) -> None:
        index = choice.get("index", 0)
        if type(index) is not int:
            self.errors.append(
                f"chunk #{self._chunks}: choice index {index!r} is not an integer; ignored"
            )
            return
        state = self._choices.get(index)
        if state is None:
            self._choices[index] = state = {"index": index, "text": []}
        text = choice.get("text")
        if type(text) is str:
            if text:
                state["text"].append(text)
                self.content_started = True
        elif text is not None:
            self._error(index, "`text` is not a string; ignored")
        logprobs = choice.get("logprobs")
        if logprobs is not None:
            self._merge_logprobs(state, logprobs)
        elif "logprobs" not in state:
            state["logprobs"] = None
        finish_reason = choice.get("finish_reason")
        if finish_reason:  # a later null never erases a real finish_reason
            state["finish_reason"] = finish_reason
        else:
            state.setdefault("finish_reason", None)
        token_ids = choice.get("token_ids")
        if type(token_ids) is list:
            state.setdefault("token_ids", []).extend(token_ids)
        if not choice.keys() <= _STREAMED_CHOICE_KEYS:
            for key, value in choice.items():
                if key in _STREAMED_CHOICE_KEYS:
                    continue
                if value is None or (type(value) is dict and not value):
                    state.setdefault(key, value)  # a null or `{}` erases nothing
                else:
                    state[key] = value

    def _merge_logprobs(self, state: JSON, logprobs: Any) -> None:
        """The first `logprobs` object is taken; later ones extend its token lists."""
        current = state.get("logprobs")
        if type(logprobs) is not dict or (current is not None and type(current) is not dict):
            self._error(state["index"], "`logprobs` is not an object; ignored")
            return
        if current is None:
            state["logprobs"] = current = {}
        for key, value in logprobs.items():
            if key in _LOGPROB_LISTS and type(value) is list:
                tokens = current.get(key)
                if type(tokens) is list:
                    tokens.extend(value)
                else:
                    current[key] = list(value)
            elif value is not None or key not in current:
                current[key] = value

    def _error(self, choice_index: int, text: str) -> None:
        self.errors.append(f"chunk #{self._chunks} choice {choice_index}: {text}")

    def result(self) -> JSON | None:
        if not self._top and not self._choices:
            return None
        top = self._top
        fields = _copy({k: v for k, v in top.items() if k != "choices" and k != "object"})
        opening = self._opening
        if opening is not None:
            opening_id = opening.get("id")
            if type(opening_id) is str and opening_id:
                fields["id"] = opening_id
                if opening.get("created") is not None:
                    fields["created"] = opening["created"]
        completion: JSON = {"id": fields.pop("id", None), "object": _OBJECT}
        if completion["id"] is None:
            del completion["id"]
        choices = [self._export_choice(i) for i in sorted(self._choices)]
        for key in top:  # in the server's order, `choices` where it put them
            if key == "choices":
                completion["choices"] = choices
            elif key in fields:
                completion[key] = fields[key]
        completion.setdefault("choices", choices)
        return completion

    def _export_choice(self, index: int) -> JSON:
        state = _copy(self._choices[index])
        state["text"] = "".join(state["text"])
        return state

    @staticmethod
    def summarize(response: JSON) -> Summary:
        model = response.get("model")
        summary = Summary(model=model if type(model) is str else None)
        usage = response.get("usage")
        if type(usage) is dict:
            summary.usage = usage
        choices = response.get("choices")
        choices = [c for c in choices if type(c) is dict] if type(choices) is list else []
        reasons = [c.get("finish_reason") for c in choices]
        if len(reasons) == 1:
            summary.stop_reason = reasons[0] if type(reasons[0]) is str else None
        elif reasons:
            summary.stop_reason = ", ".join(str(r) for r in reasons)
        for choice in choices:
            text = choice.get("text")
            if type(text) is str and text:
                summary.parts.append(Part("text", text))
        return summary

    @staticmethod
    def response_complete(response: JSON) -> list[str]:
        error = response.get("error")
        return [f"error in body: {describe_error(error)}"] if error else []

    @staticmethod
    def read_request(body: Any) -> Conversation:
        """The prompt (one, a batch of them, or token ids) and the `suffix` to fill in before."""
        if not isinstance(body, dict):
            return read_generic(body)
        prompt = body.get("prompt")
        prompts = prompt if isinstance(prompt, list) and not _tokens(prompt) else [prompt]
        conversation = Conversation(settings=settings_of(body, ("prompt", "suffix")))
        for one in prompts:
            if one is not None:
                text = one if isinstance(one, str) else "token ids: " + json_text(one)
                conversation.messages.append(Message("prompt", [Part("text", text)]))
        if isinstance(body.get("suffix"), str):
            conversation.messages.append(Message("suffix", [Part("text", body["suffix"])]))
        return conversation

    @staticmethod
    def usage(response: JSON) -> Usage:
        """`prompt_tokens` count the cached ones (vLLM reports them as OpenAI does)."""
        usage = response.get("usage")
        if type(usage) is not dict:
            return Usage()
        prompt = usage.get("prompt_tokens_details")
        prompt = prompt if type(prompt) is dict else {}
        completion = usage.get("completion_tokens_details")
        completion = completion if type(completion) is dict else {}
        return Usage(
            input_tokens=count(usage.get("prompt_tokens")),
            output_tokens=count(usage.get("completion_tokens")),
            cache_read_tokens=count(prompt.get("cached_tokens")),
            reasoning_tokens=count(completion.get("reasoning_tokens")),
        )


def _tokens(prompt: list[Any]) -> bool:
    """A prompt given as token ids (`[1, 2, 3]`), not a batch of prompts."""
    return bool(prompt) and all(type(t) is int for t in prompt)


PROVIDER = Provider(
    id=OpenAICompletions.provider,
    title="OpenAI Completions (legacy)",
    accumulator=OpenAICompletions,
    # Any host, also below a prefix (`/v1/completions`, Azure's `/openai/deployments/x/
    # completions`), but not Chat Completions' `/chat/completions`.
    routes=(Route("*", r"(?<!/chat)/completions$", ("POST",)),),
    samples=(
        Sample(
            host="127.0.0.1:8000",
            path="/v1/completions",
            request={
                "model": "Qwen/Qwen2.5-0.5B-Instruct",
                "prompt": "The capital of France is",
                "max_tokens": 8,
                "logprobs": 2,
                "stream": True,
                "stream_options": {"include_usage": True},
            },
            answer="openai-completions/vllm_logprobs_usage.sse",
            headers=(("authorization", "Bearer sk-test"),),
        ),
    ),
)
