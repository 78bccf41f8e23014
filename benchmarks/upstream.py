"""A local stand-in for an LLM API: streams recorded bodies as SSE, chunk by chunk.

    python -m benchmarks.upstream PORT MANIFEST.json

MANIFEST is a JSON list of file paths. `POST /s/<n>/<mode>/<api path>` answers with file n
as `text/event-stream`, chunked, cut at event boundaries into chunks of 1-4 events (seeded).
Each chunk ends with an SSE comment `: t=<CLOCK_MONOTONIC ns>` stamped right before it is
written, so a client can tell how long the chunk took to reach it. Mode `paced` waits a
little between chunks, as a model generating tokens does; `blast` sends as fast as it can.
Listens on 127.0.0.1 only and exits when its stdin closes.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from pathlib import Path

PACED_GAP = 0.002  # seconds between chunks in paced mode
STAMP = b": t="


def event_chunks(body: bytes, seed: int) -> list[bytes]:
    events = [e + b"\n\n" for e in body.split(b"\n\n") if e.strip()]
    rng = random.Random(seed)
    out = []
    at = 0
    while at < len(events):
        step = rng.randint(1, 4)
        out.append(b"".join(events[at : at + step]))
        at += step
    return out


async def serve(port: int, files: list[Path]) -> None:
    streams = [event_chunks(p.read_bytes(), n) for n, p in enumerate(files)]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                _method, target, _ = lines[0].split(" ", 2)
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                await reader.readexactly(int(headers.get("content-length", "0")))
                _, _, number, mode, _ = target.split("/", 4)
                chunks = streams[int(number)]
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                    b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n"
                )
                paced = mode == "paced"
                for chunk in chunks:
                    if paced:
                        await asyncio.sleep(PACED_GAP)
                    piece = chunk + STAMP + str(time.monotonic_ns()).encode() + b"\n"
                    writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    await writer.drain()
                writer.write(b"0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes our stdin
    server.close()


if __name__ == "__main__":
    paths = [Path(p) for p in json.loads(Path(sys.argv[2]).read_text())]
    asyncio.run(serve(int(sys.argv[1]), paths))
