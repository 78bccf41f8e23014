"""The record stage: bytes of one answer → its typed record, and what a record is made of.

`rebuild` (bytes → record JSON) is the whole core without mitmproxy; `AnswerRebuild` is the
same fed chunk by chunk; `Record` is the one owner of a record's fields; `flowside` fills in
what the proxy saw around the answer (request, status, timing) from plain values.
"""

from addon.record.answer import (
    RECORD_KEYS,
    AnswerRebuild,
    StreamRebuild,
    rebuild,
    rebuild_answer,
    rebuild_json,
)
from addon.record.model import JSON, Record

__all__ = [
    "JSON",
    "RECORD_KEYS",
    "AnswerRebuild",
    "Record",
    "StreamRebuild",
    "rebuild",
    "rebuild_answer",
    "rebuild_json",
]
