"""Which response a message on a Responses WebSocket belongs to, and when each one ends.

One socket (`/v1/responses`, Codex's `/backend-api/codex/responses`) carries many responses,
for up to an hour. Each client `response.create` asks for one; the server's events for it fold
into the same Responses accumulator an SSE stream uses; `response.completed`, `.incomplete`,
`.failed` or an `error` message ends it. A create with a `stream_id` names a lane: each lane
runs its creates one at a time, first come first served, lanes run at once, and every server
event echoes its lane (default-lane events carry none). A server `response.created` on a lane
with nothing running is a response the server started by itself (steering's successor).

What is not a response's own event stream is kept beside the response it belongs to, in
`record.extras["websocket"]["messages"]`: `codex.rate_limits`, `response.queued`, client
`response.steer` and the server's `response.steer.*` answers, `response.processed`
acknowledgements while the response runs. What belongs to no running response (an
acknowledgement after its response ended, a connection-level error) goes to `messages` of the
socket itself. Nothing is dropped and nothing goes inside the API object.

Pure: (from_client, content, timestamp) in, finished `SocketResponse`s out. A response's state
(its accumulator) is let go the moment it ends, so an hour-long socket holds only what still
runs, plus a few recent response ids to place late acknowledgements.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any

from addon.providers import Provider
from addon.providers.base import Accumulator
from addon.providers.openai_responses import OpenAIResponses
from addon.record.answer import finish_response, provider_named
from addon.record.model import JSON, Record
from addon.record.redact import Redactor
from addon.wire.wsmessages import Message, exact, read_message

TERMINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})
BESIDE_SERVER = frozenset({"response.queued"})
"""Server events the fold takes (as over SSE) that are also noted beside the response."""
_BESIDE_PREFIXES = ("response.steer.", "codex.")
"""Server events kept beside a response, never folded (`_side_event`)."""
_ENDS_OR_BESIDE = TERMINAL | BESIDE_SERVER | {"error"}
"""One set lookup on the hot path instead of three."""
RECENT_IDS = 64
"""Ended responses remembered by id, to place acknowledgements that come after the end."""
MAX_IDLE_LANES = 256


@dataclass(slots=True)
class SocketResponse:
    """One response of the socket: its record (flow side not yet filled) and its times."""

    index: int
    """Its place among the socket's responses, in the order they were asked for."""
    record: Record
    create: str | None
    """The client's `response.create` text; None when the server started the response."""
    lane: str | None
    started: float
    first_byte_at: float | None
    first_token_at: float | None
    ended: float | None
    """None while it runs (a snapshot)."""


class _Turn:
    """A response while it runs (or waits for its lane)."""

    __slots__ = (
        "acc",
        "create",
        "events",
        "first_byte_at",
        "first_message",
        "first_token_at",
        "index",
        "lane",
        "last_message",
        "note",
        "response_id",
        "side",
        "started",
    )

    def __init__(
        self, index: int, lane: str | None, create: str | None, started: float, at_message: int
    ) -> None:
        self.index = index
        self.lane = lane
        self.create = create
        self.started = started
        self.acc: Accumulator | None = None
        self.events = 0
        self.response_id: str | None = None
        self.first_byte_at: float | None = None
        self.first_token_at: float | None = None
        self.first_message = at_message
        self.last_message = at_message
        self.side: list[JSON] = []
        self.note: JSON = {}


class _Lane:
    __slots__ = ("active", "last_id", "waiting")

    def __init__(self) -> None:
        self.active: _Turn | None = None
        self.waiting: deque[_Turn] = deque()
        self.last_id: str | None = None


def _lane_of(data: Any) -> str | None:
    lane = data.get("stream_id") if isinstance(data, dict) else None
    if lane is None or isinstance(lane, str):
        return lane
    return repr(lane)  # not a valid lane, but the server echoes whatever it got


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class ResponsesSocket:
    """One Responses WebSocket, message by message; `message` and `close` never raise."""

    def __init__(
        self,
        opened: float,
        provider: str | Provider = "openai-responses",
        redactor: Redactor | None = None,
    ) -> None:
        self.provider = provider_named(provider)
        self.opened = opened
        self.redactor = redactor or Redactor()
        self.messages: list[JSON] = []
        """What belonged to no running response, in order."""
        self.seen = 0
        """Messages read so far (a message's position on the socket)."""
        self.asked = 0
        """Responses started so far (the next one's index)."""
        self.closed = False
        self._lanes: dict[str | None, _Lane] = {}
        self._recent: OrderedDict[str, int] = OrderedDict()

    # -- input -------------------------------------------------------------------------------

    def message(
        self, from_client: bool, content: bytes | str, at: float, *, is_text: bool = True
    ) -> list[SocketResponse]:
        """One whole message; returns the responses it ended (in the order they started)."""
        position = self.seen
        self.seen += 1
        read = read_message(content, is_text=is_text)
        try:
            if self.closed:
                self._keep(read, at, from_client, position, "came after the socket closed")
                return []
            if from_client:
                return self._client(read, at, position)
            return self._server(read, at, position)
        except Exception as exc:  # our bug costs this message's place, never the socket
            self._keep(read, at, from_client, position, f"could not be placed: {exc!r}")
            return []

    def close(self, at: float, problem: str | None = None) -> list[SocketResponse]:
        """The socket ended: every response still running or waiting ends, incomplete."""
        if self.closed:
            return []
        self.closed = True
        reason = problem or "the socket closed"
        turns = [t for lane in self._lanes.values() for t in (lane.active, *lane.waiting) if t]
        finished = []
        for turn in sorted(turns, key=lambda t: t.index):
            when = "ended" if turn.first_byte_at is not None else "started"
            finished.append(self._end(turn, at, f"{reason} before the response {when}"))
        self._lanes.clear()
        return finished

    def running(self) -> list[SocketResponse]:
        """Snapshots of the responses that run or wait, by index (for a live view)."""
        turns = [t for lane in self._lanes.values() for t in (lane.active, *lane.waiting) if t]
        return [self._result(t, None, None) for t in sorted(turns, key=lambda t: t.index)]

    # -- client messages -------------------------------------------------------------------

    def _client(self, read: Message, at: float, position: int) -> list[SocketResponse]:
        kind, data = read.kind, read.data
        if kind == "response.create":
            lane_id = _lane_of(data)
            turn = _Turn(self.asked, lane_id, read.event.data, at, position)
            self.asked += 1
            if data.get("generate") is False:
                turn.note["prewarm"] = True
            lane = self._lane(lane_id)
            if lane.active is None:
                lane.active = turn
            else:
                lane.waiting.append(turn)
            return []
        target: _Turn | None = None
        named: str | None = None
        if kind == "response.processed":
            named = _string(data.get("response_id"))
        elif kind == "response.steer":
            named = _string(data.get("previous_response_id"))
        elif kind == "response.append":  # older Codex: more input for the running response
            default = self._lanes.get(None)
            target = default.active if default is not None else None
        if named is not None:
            target = self._running(named)
        if target is not None:
            target.side.append(self._entry(read, at, True, target.started, position))
            target.last_message = position
        else:
            self._keep(read, at, True, position, None, named)
        return []

    # -- server messages -------------------------------------------------------------------

    def _server(self, read: Message, at: float, position: int) -> list[SocketResponse]:
        kind, data = read.kind, read.data
        if kind is not None:  # a JSON object with a string `type`: the hot path, every delta
            lane_id = data.get("stream_id")
            if lane_id is not None and not isinstance(lane_id, str):
                lane_id = repr(lane_id)  # as `_lane_of`
            if kind.startswith(_BESIDE_PREFIXES):
                self._side_event(read, at, position, lane_id)
                return []
            response = data.get("response")
        else:
            lane_id = _lane_of(data)
            response = data.get("response") if isinstance(data, dict) else None
        lane = self._lanes.get(lane_id)
        turn = lane.active if lane is not None else None
        finished: list[SocketResponse] = []
        response_id = _string(response.get("id")) if isinstance(response, dict) else None
        if response_id is not None and lane is not None:
            turn = self._owner(lane, response_id, kind)
        elif kind == "error" and turn is None and lane_id is None:
            turn = self._only_unheard()  # e.g. a lane id the server refused, so not echoed
        if kind == "response.created" and turn is None:
            turn, finished = self._successor(lane_id, response_id, at, position)
        if turn is None:
            self._keep(read, at, False, position, "no response was running on its lane")
            return finished
        self._fold(turn, read, at, position, response)
        if kind in _ENDS_OR_BESIDE:
            if kind in BESIDE_SERVER:
                turn.side.append(self._entry(read, at, False, turn.started, position))
            if kind in TERMINAL or kind == "error":
                finished.append(self._end(turn, at, None))
        return finished

    def _side_event(self, read: Message, at: float, position: int, lane_id: str | None) -> None:
        """`response.steer.*` beside the response it names, `codex.*` (rate limits) beside the
        one running on its lane."""
        data = read.data
        if read.kind is not None and read.kind.startswith("response.steer."):
            steer = data.get("steer")
            named = _string(steer.get("previous_response_id")) if isinstance(steer, dict) else None
            self._beside(read, at, position, self._running(named), named)
            return
        lane = self._lanes.get(lane_id)
        self._beside(read, at, position, lane.active if lane is not None else None, None)

    def _owner(self, lane: _Lane, response_id: str, kind: str | None) -> _Turn | None:
        """The response a lifecycle event is about: the one with its id, else the running one
        if it has none yet, else a waiting one the server already queued or began."""
        for turn in (lane.active, *lane.waiting):
            if turn is not None and turn.response_id == response_id:
                return turn
        active = lane.active
        if active is not None and active.response_id is None:
            return active
        early = next((t for t in lane.waiting if t.response_id is None), None)
        if early is not None:
            return early
        return active if kind != "response.created" else None

    def _successor(
        self, lane_id: str | None, response_id: str | None, at: float, position: int
    ) -> tuple[_Turn, list[SocketResponse]]:
        """A response nothing asked for: the server went on by itself (after steering)."""
        finished = []
        lane = self._lane(lane_id)
        if lane.active is not None:  # its lane still runs another one: that one ends here
            problem = f"response {response_id} started on its lane before this one ended"
            finished.append(self._end(lane.active, at, problem))
        turn = _Turn(self.asked, lane_id, None, at, position)
        self.asked += 1
        if lane.last_id is not None:
            turn.note["successor_of"] = lane.last_id
        if lane.active is None:
            lane.active = turn
        else:
            lane.waiting.appendleft(turn)
        return turn, finished

    def _fold(self, turn: _Turn, read: Message, at: float, position: int, response: Any) -> None:
        """The event into its response's accumulator (`response`: the event's own `response`
        object, if any: the first one with an id names the response)."""
        acc = turn.acc
        if acc is None:
            acc = turn.acc = self.provider.accumulator()
        if turn.first_byte_at is None:
            turn.first_byte_at = at
        if read.kind is not None and isinstance(acc, OpenAIResponses):
            acc.feed_parsed(read.event, read.data)  # parsed once, in `read_message`
        else:
            acc.feed(read.event)
        turn.events += 1
        turn.last_message = position
        if turn.response_id is None and read.kind is not None and isinstance(response, dict):
            turn.response_id = _string(response.get("id"))
        if turn.first_token_at is None and acc.content_started:
            turn.first_token_at = at

    def _beside(
        self, read: Message, at: float, position: int, turn: _Turn | None, named: str | None
    ) -> None:
        if turn is None:
            self._keep(read, at, False, position, None, named)
            return
        if turn.first_byte_at is None:
            turn.first_byte_at = at
        turn.side.append(self._entry(read, at, False, turn.started, position))
        turn.last_message = position

    # -- ends ------------------------------------------------------------------------------

    def _end(self, turn: _Turn, at: float, problem: str | None) -> SocketResponse:
        lane = self._lanes.get(turn.lane)
        if lane is not None:
            if lane.active is turn:
                lane.active = lane.waiting.popleft() if lane.waiting else None
            elif turn in lane.waiting:
                lane.waiting.remove(turn)
            if turn.response_id is not None:
                lane.last_id = turn.response_id
            if lane.active is None and turn.lane is not None and len(self._lanes) > MAX_IDLE_LANES:
                del self._lanes[turn.lane]
        if turn.response_id is not None:
            self._recent[turn.response_id] = turn.index
            if len(self._recent) > RECENT_IDS:
                self._recent.popitem(last=False)
        if turn.acc is not None:
            turn.acc.finish()
        return self._result(turn, at, problem)

    def _result(self, turn: _Turn, ended: float | None, problem: str | None) -> SocketResponse:
        """The record of a response (`ended` None: a snapshot of a running one)."""
        acc = turn.acc
        record = Record(provider=self.provider.id, streamed=True, events=turn.events)
        record.socket_index = turn.index
        if problem is not None:
            record.errors.append(problem)
        if acc is None:
            if ended is not None and problem is None:
                record.errors.append("no answer came for it")
        else:
            try:
                record.response = acc.result()
            except Exception as exc:
                record.errors.append(f"could not assemble the response: {exc!r}")
            record.errors.extend(acc.errors)
            record.unknown_events = list(acc.unknown)
            record.extras = dict(acc.extras)
        beside: JSON = {"lane": turn.lane, **turn.note}
        beside["messages"] = list(turn.side)
        beside["span"] = [turn.first_message, turn.last_message]
        record.extras["websocket"] = beside
        record.complete = ended is not None and acc is not None and acc.done and not record.errors
        finish_response(record, self.provider)
        return SocketResponse(
            turn.index,
            record,
            turn.create,
            turn.lane,
            turn.started,
            turn.first_byte_at,
            turn.first_token_at,
            ended,
        )

    # -- helpers ---------------------------------------------------------------------------

    def _lane(self, lane_id: str | None) -> _Lane:
        lane = self._lanes.get(lane_id)
        if lane is None:
            lane = self._lanes[lane_id] = _Lane()
        return lane

    def _running(self, response_id: str | None) -> _Turn | None:
        for lane in self._lanes.values():
            if lane.active is not None and lane.active.response_id == response_id:
                return lane.active
        return None

    def _only_unheard(self) -> _Turn | None:
        unheard = [
            lane.active
            for lane in self._lanes.values()
            if lane.active is not None and lane.active.first_byte_at is None
        ]
        return unheard[0] if len(unheard) == 1 else None

    def _entry(
        self, read: Message, at: float, from_client: bool, since: float, position: int
    ) -> JSON:
        entry: JSON = {
            "at": round(at - since, 4),
            "from": "client" if from_client else "server",
            "type": read.kind,
            "position": position,
            "data": self.redactor.body(exact(read)),
        }
        if read.problem is not None:
            entry["problem"] = read.problem
        return entry

    def _keep(
        self,
        read: Message,
        at: float,
        from_client: bool,
        position: int,
        note: str | None,
        named: str | None = None,
    ) -> None:
        """A message of the socket itself, with the response it names when that is known."""
        entry = self._entry(read, at, from_client, self.opened, position)
        if named is not None:
            entry["response_id"] = named
            if named in self._recent:
                entry["socket_index"] = self._recent[named]
        if note is not None:
            entry["note"] = note
        self.messages.append(entry)
