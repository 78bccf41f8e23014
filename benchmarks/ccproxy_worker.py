"""Times ccproxy 0.2.10's stream accumulators; runs in its own venv, imports nothing of ours.

    python ccproxy_worker.py MANIFEST.json

MANIFEST maps a stream name to {"provider": ..., "files": [...]}. The worker then reads one
JSON request a line on stdin, {"stream": NAME, "budget": SECONDS}, and answers one JSON line:
{"stream", "seconds", "events", "over_budget", "error"}. It waits on stdin between requests, so
the caller can interleave it with the other contenders.

Each body goes the way ccproxy's own `StreamingBuffer._accumulate_stream_events` takes it
(`ccproxy/streaming/buffer.py`): split on blank lines, `event:`/`data:` lines, `json.loads`,
`accumulate(event_name, data)` with each failure caught, then `rebuild_response_object`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import structlog
from ccproxy.llms.streaming.accumulators import (
    ClaudeAccumulator,
    OpenAIAccumulator,
    ResponsesAccumulator,
)

ACCUMULATORS = {
    "anthropic-messages": ClaudeAccumulator,
    "openai-chat": OpenAIAccumulator,
    "openai-responses": ResponsesAccumulator,
}


class OverBudget(BaseException):
    pass


def _stop(signum: int, frame: Any) -> None:
    raise OverBudget


def accumulate(provider: str, body: bytes) -> int:
    text = body.decode("utf-8", errors="ignore").replace("\r\n", "\n")
    accumulator = ACCUMULATORS[provider]()
    events = 0
    for raw_event in text.split("\n\n"):
        raw_event = raw_event.strip()
        if not raw_event:
            continue
        event_name = ""
        data_lines: list[str] = []
        for raw_line in raw_event.split("\n"):
            line = raw_line.strip()
            if line.startswith("event:"):
                event_name = line[6:].strip()
            elif line.startswith("data:"):
                payload = line[5:].lstrip()
                if payload == "[DONE]":
                    data_lines = []
                    break
                data_lines.append(payload)
        if not data_lines:
            continue
        try:
            event_data = json.loads("\n".join(data_lines))
        except json.JSONDecodeError:
            continue
        events += 1
        with contextlib.suppress(Exception):  # ccproxy logs and goes on
            accumulator.accumulate(event_name, event_data)
    accumulator.rebuild_response_object({})
    return events


def main() -> None:
    # ccproxy logs at WARNING and above by default (`ccproxy/core/logging.py`); its log lines
    # go to stderr here, and stdout carries only our answers.
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    manifest = json.loads(Path(sys.argv[1]).read_text())
    streams = {
        name: (spec["provider"], [Path(f).read_bytes() for f in spec["files"]])
        for name, spec in manifest.items()
    }
    signal.signal(signal.SIGALRM, _stop)
    print(json.dumps({"ready": True}), file=answers, flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        provider, bodies = streams[request["stream"]]
        answer: dict[str, Any] = {"stream": request["stream"], "over_budget": False, "error": None}
        events = 0
        start = time.process_time()  # CPU time, as the caller measures (see run.py)
        try:
            signal.setitimer(signal.ITIMER_REAL, request.get("budget") or 0)
            for body in bodies:
                events += accumulate(provider, body)
        except OverBudget:
            answer["over_budget"] = True
        except Exception as exc:
            answer["error"] = repr(exc)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        answer["seconds"] = time.process_time() - start
        answer["events"] = events
        print(json.dumps(answer), file=answers, flush=True)


if __name__ == "__main__":
    main()
