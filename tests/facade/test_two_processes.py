"""One process ingests while another reads: no errors, never half a scan."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import driftstore
from tests.conftest import REPO


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.facade.workers", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_reader_process_never_sees_an_error_or_half_a_scan(root: Path) -> None:
    with driftstore.open(root):
        pass  # create the database first so both processes open an existing store
    writer = _spawn("writer", str(root), "25")
    reader = _spawn("reader", str(root), "6")
    _w_out, w_err = writer.communicate(timeout=120)
    r_out, r_err = reader.communicate(timeout=120)
    assert writer.returncode == 0, w_err
    assert reader.returncode == 0, r_err
    assert "Traceback" not in w_err + r_err
    assert int(r_out.strip()) > 10  # it really read while the writer wrote
    with driftstore.open(root) as store:
        assert {s.name for s in store.query().patterns} == {"gen 25"}
