"""Running the real `driftstore` entry point in-process, with its output captured."""

from __future__ import annotations

import json
from collections.abc import Callable
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


Runner = Callable[..., Result]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], root: Path) -> Runner:
    """run("list", "--json") -> Result; --root defaults to the test's project folder."""

    def invoke(*args: str, root_dir: Path | None = root) -> Result:
        argv = list(args)
        if (
            root_dir is not None
            and "--root" not in argv
            and argv
            and argv[0] not in {"--help", "--version"}
        ):
            argv += ["--root", str(root_dir)]
        capsys.readouterr()
        try:
            main(argv)
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke
