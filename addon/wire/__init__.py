"""The wire stage: bytes as they came off the connection → events, no I/O.

Content decoding (`encoding`) undoes gzip, br, zstd and deflate on a side copy; a framing
(`sse`, and per API the others) cuts the decoded bytes into `Event`s that an accumulator folds.
"""

from addon.wire.events import Event
from addon.wire.framing import Framing

__all__ = ["Event", "Framing"]
