"""Starting workers, and killing them with SIGKILL at a chosen moment of their operation."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO

READY_TIMEOUT = 30.0


def spawn(
    module: str,
    *args: str,
    preexec: Callable[[], None] | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=REPO,
        env=None if env is None else {**os.environ, **env},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=preexec,
    )


def worker(
    role: str, root: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    return spawn("tests.faults.workers", role, str(root), *args, env=env)


def _read_line(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        proc.kill()
        raise AssertionError(f"worker gave no sign of life in {timeout} s")
    return proc.stdout.readline()


@dataclass
class Outcome:
    """How one interrupted run ended."""

    #: the SIGKILL landed while the worker was alive
    killed: bool
    #: the operation had finished (printed `done`) before the kill
    finished: bool
    returncode: int
    stderr: str
    seconds: float | None = None


def run_worker(
    role: str,
    root: Path,
    *args: str,
    kill_after: float | None = None,
    env: dict[str, str] | None = None,
) -> Outcome:
    """Run one operation; with `kill_after`, SIGKILL the worker that many seconds into it."""
    proc = worker(role, root, *args, env=env)
    line = _read_line(proc, READY_TIMEOUT)
    if line.strip() != "ready":
        out, err = proc.communicate(timeout=30)
        raise AssertionError(f"worker {role} did not start: {line}{out}{err}")
    assert proc.stdin is not None
    proc.stdin.write("go\n")
    proc.stdin.flush()
    if kill_after is not None:
        time.sleep(kill_after)
        alive = proc.poll() is None
        if alive:
            os.kill(proc.pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=120)
    seconds = None
    for text in out.splitlines():
        if text.startswith("done "):
            seconds = float(text.split()[1])
    killed = proc.returncode == -signal.SIGKILL
    return Outcome(killed, seconds is not None, proc.returncode, err, seconds)


def timed(role: str, root: Path, *args: str) -> float:
    """Duration of one uninterrupted run of the operation (inside the worker)."""
    outcome = run_worker(role, root, *args)
    assert outcome.returncode == 0 and outcome.seconds is not None, outcome.stderr
    return outcome.seconds


def file_size_limit(limit: int) -> Callable[[], None]:
    """A preexec hook: the child may not write any file past `limit` bytes. SIGXFSZ is
    ignored so that such a write fails with EFBIG instead of killing the child."""

    def apply() -> None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def cli(
    *args: str, limit: int | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """The real `driftstore` command in a child process, optionally under a file-size limit."""
    return subprocess.run(
        [sys.executable, "-m", "driftstore.cli.main", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=None if limit is None else file_size_limit(limit),
    )


def one_line_error(result: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    """The user sees one line on stderr, with the exit code and words that name the cause."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("driftstore: "), lines[0]
    lowered = lines[0].lower()
    assert any(w in lowered for w in words), f"{lines[0]!r} names none of {words}"
    return lines[0]
