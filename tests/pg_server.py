"""A throwaway PostgreSQL server for the tests: its own data folder and socket in a private
temp folder, no TCP port, stopped (and deleted) at the end.

PostgreSQL refuses to run as root, and CI runs as root: then initdb and pg_ctl run as the
`postgres` user (runuser). `DRIFTSTORE_TEST_PG` names a server to use instead (a libpq URL).
Without a server the tests that need one fail, saying why; they are never skipped.

`python -m tests.pg_server start DIR` / `stop DIR` does the same for scripts/test.sh, which
starts one server for the whole run and hands its URL to pytest.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ENV_URL = "DRIFTSTORE_TEST_PG"
DATABASE = "driftstore_test"


class NoServer(RuntimeError):
    pass


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    if found:
        return Path(found[0]).parent
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).parent
    raise NoServer(
        "PostgreSQL is not installed (no pg_ctl): run 'bash scripts/setup.sh', which installs "
        f"Debian's postgresql package, or set {ENV_URL} to a server's URL"
    )


def _as_owner(command: list[str], owner: str | None) -> list[str]:
    return command if owner is None else ["runuser", "-u", owner, "--", *command]


def url_for(folder: Path) -> str:
    return f"postgresql:///{DATABASE}?host={folder / 'socket'}"


def start(folder: Path) -> str:
    """initdb + pg_ctl start in `folder` (made private); returns the server's URL."""
    bin_dir = _binaries()
    owner = "postgres" if os.geteuid() == 0 else None
    folder.mkdir(parents=True, exist_ok=True)
    data, socket = folder / "data", folder / "socket"
    socket.mkdir(exist_ok=True)
    if owner is not None:
        shutil.chown(folder, owner)
        shutil.chown(socket, owner)
    folder.chmod(0o700)
    quiet = {"capture_output": True, "text": True, "timeout": 120}
    user = owner or os.environ.get("USER") or "postgres"
    done = subprocess.run(
        _as_owner(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", user, "--auth=trust",
             "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"],
            owner,
        ),
        **quiet,
    )  # fmt: skip
    if done.returncode != 0:
        raise NoServer(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")
    options = (
        f"-k {socket} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off -c max_connections=200"
    )
    done = subprocess.run(
        _as_owner(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"),
             "-o", options, "-w", "start"],
            owner,
        ),
        **quiet,
    )  # fmt: skip
    if done.returncode != 0:
        log = (folder / "server.log").read_text() if (folder / "server.log").exists() else ""
        raise NoServer(f"the PostgreSQL server did not start: {done.stderr.strip()} {log[-500:]}")
    done = subprocess.run(
        _as_owner([str(bin_dir / "createdb"), "-h", str(socket), "-U", user, DATABASE], owner),
        **quiet,
    )
    if done.returncode != 0:
        raise NoServer(f"createdb failed: {done.stderr.strip()}")
    return f"postgresql://{user}@/{DATABASE}?host={socket}"


def stop(folder: Path) -> None:
    data = folder / "data"
    if data.exists():
        owner = "postgres" if os.geteuid() == 0 else None
        subprocess.run(
            _as_owner(
                [str(_binaries() / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], owner
            ),
            capture_output=True,
            timeout=60,
            check=False,
        )
    shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def server() -> Iterator[str]:
    """The URL of a server to test against: DRIFTSTORE_TEST_PG's, else a fresh one."""
    given = os.environ.get(ENV_URL)
    if given:
        yield given
        return
    folder = Path(tempfile.mkdtemp(prefix="driftstore-pg-"))
    try:
        yield start(folder)
    finally:
        stop(folder)


def _with_database(url: str, name: str) -> str:
    parts = url.split("?", 1)
    base = parts[0].rsplit("/", 1)[0]
    return f"{base}/{name}" + (f"?{parts[1]}" if len(parts) > 1 else "")


@contextmanager
def scratch_database(url: str, template: str | None = None) -> Iterator[str]:
    """A new database on the server of `url` (empty, or a copy of `template`), dropped
    after use; yields its URL."""
    import uuid

    import psycopg

    name = f"driftstore_run_{uuid.uuid4().hex[:12]}"
    copy = f" TEMPLATE {template}" if template else ""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}{copy}")
    try:
        yield _with_database(url, name)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextmanager
def template_database(url: str) -> Iterator[str]:
    """A database with driftstore's schema and no project in it; yields its name."""
    import psycopg

    from driftstore.engine.postgres.location import PostgresLocation

    with scratch_database(url) as scratch:
        with psycopg.connect(scratch) as conn:
            PostgresLocation(scratch, "template")._upgrade(conn, None)
        yield scratch.split("?", 1)[0].rsplit("/", 1)[1]


if __name__ == "__main__":
    action, where = sys.argv[1], Path(sys.argv[2])
    if action == "start":
        try:
            print(start(where))
        except NoServer as exc:
            print(f"driftstore tests: {exc}", file=sys.stderr)
            sys.exit(1)
    else:
        stop(where)
