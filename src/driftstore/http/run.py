"""`driftstore serve`: bind, guard, serve until Ctrl-C or SIGTERM.

Safe by default: loopback only (another address needs --allow-remote), Host and Origin
checked, no CORS unless --cors names an origin, writes only with the token written to
`.drift/serve.token`. What happens is said on stderr; stdout stays empty.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

import driftstore
from driftstore.http.serving import LOOPBACK_NAMES, bind, is_loopback, make_server

WILDCARDS = ("0.0.0.0", "::")


def check_address(host: str, allow_remote: bool) -> None:
    """Refuse an address other machines can reach unless --allow-remote says so."""
    if not is_loopback(host) and not allow_remote:
        raise driftstore.InvalidInputError(
            f"--host {host} would let other machines reach the API; add --allow-remote if "
            "that is what you want (writes still need the token)"
        )


def allowed_hosts(host: str) -> list[str]:
    """Host headers the guard accepts: loopback names, plus the address served."""
    names = list(LOOPBACK_NAMES)
    if host not in names:
        names.append(host)
    return names


def serve(
    store: driftstore.PatternStore,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    allow_remote: bool = False,
    cors: Sequence[str] = (),
    log: TextIO = sys.stderr,
) -> int:
    check_address(host, allow_remote)
    from driftstore.http.api import build_app
    from driftstore.http.token import issue_token, revoke_token

    hosts = allowed_hosts(host)
    if host in WILDCARDS:
        print(
            "note: on a wildcard address the Host check accepts only loopback names and the "
            "address itself; clients must use one of those in their Host header",
            file=log,
        )
    try:
        sock = bind(host, port)
    except OSError as exc:
        raise driftstore.InvalidInputError(
            f"cannot listen on {host}:{port}: {exc.strerror}; choose another --port (0: any free)"
        ) from None
    token = issue_token(store.drift_dir)
    app = build_app(store, token=token, cors=cors, allowed_hosts=hosts)
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    print(
        f"driftstore serve: http://{shown}:{bound_port}/v1/ (writes need the token in "
        f"{store.drift_dir / 'serve.token'}); Ctrl-C stops",
        file=log,
        flush=True,
    )
    try:
        make_server(app).run(sockets=[sock])
    finally:
        revoke_token(store.drift_dir, token)
        sock.close()
    return 0
