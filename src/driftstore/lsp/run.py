"""`driftstore lsp`: serve one project's store to an editor over stdio.

stdout is the protocol channel: the real stdout is handed to the server and `sys.stdout`
points at stderr for everything else, so a stray print cannot corrupt a message. Logs go
to stderr (warnings and up).
"""

from __future__ import annotations

import logging
import sys

import driftstore


def serve(store: driftstore.PatternStore) -> int:
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="driftstore lsp: %(levelname)s %(message)s"
    )
    from driftstore.lsp.server import build_server

    server = build_server(store)
    wire_in, wire_out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr
    try:
        server.start_io(wire_in, wire_out)
    finally:
        server.stop_watching()
    return 0
