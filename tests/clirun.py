"""Running the real `driftstore` entry point in-process, with its output captured; shared
by every CLI test so they all exercise the same door a user does."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from driftstore.cli.main import main


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run_cli(capsys: pytest.CaptureFixture[str], root: Path | None, *args: str) -> Result:
    """`driftstore ARGS [--root ROOT]`: the exit code and what went to stdout and stderr."""
    argv = list(args)
    if root is not None and "--root" not in argv:
        argv += ["--root", str(root)]
    capsys.readouterr()
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)
