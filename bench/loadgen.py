"""The benchmark's load generator: many websocket clients, and a Redis publisher.

Runs as child processes of bench/fanout.py, which talks to them with one JSON object per
line on stdin/stdout. Only the standard library (and uvloop when present) on the socket
side, so one process carries thousands of sockets and tens of thousands of messages per
second: a minimal RFC 6455 client (no compression, as the peers get the same) that reads
each message's topic, sequence and scheduled send time with a regular expression rather
than parsing the whole JSON.

    python bench/loadgen.py sockets HOST PORT PATH SPECS.json
    python bench/loadgen.py publish STACK REDIS_URL TOPICS.json
"""

from __future__ import annotations

import asyncio
import sys

from load_publisher import serve_publisher
from load_sockets import serve_sockets


def main() -> None:
    try:
        from uvloop import run
    except ImportError:
        run = asyncio.run
    mode = sys.argv[1]
    if mode == "sockets":
        run(serve_sockets(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]))
    elif mode == "publish":
        run(serve_publisher(sys.argv[2], sys.argv[3], sys.argv[4]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
