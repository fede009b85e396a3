"""The CLI conventions a newcomer relies on: where the store is found, global options before
the command word, help and version, closed pipes, untrusted text printed literally, narrow
terminals, id prefixes, project paths, JSON errors, and Ctrl-C."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import driftstore
from tests.cli.conftest import Runner
from tests.conftest import REPO
from tests.factories import entry

SAMPLE_SCAN = REPO / "samples" / "scan.json"
EXE = [sys.executable, "-m", "driftstore.cli.main"]
ESC, BEL = "\x1b", "\x07"


def _proc(
    *args: str, cwd: Path = REPO, env: dict[str, str] | None = None, shell: str | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **(env or {})}
    environment.pop("DRIFTSTORE_ROOT", None) if env is None else None
    if shell is not None:
        return subprocess.run(
            shell, shell=True, capture_output=True, text=True, cwd=cwd, env=environment,
            timeout=120, check=False,
        )  # fmt: skip
    return subprocess.run(
        [*EXE, *args], capture_output=True, text=True, cwd=cwd, env=environment, timeout=120,
        check=False,
    )  # fmt: skip


@pytest.fixture
def loaded(run: Runner) -> Runner:
    assert run("ingest", str(SAMPLE_SCAN)).code == 0
    return run


# --- where the store is -------------------------------------------------------------
def test_root_and_json_before_the_command_word(loaded: Runner, root: Path) -> None:
    before = loaded("--root", str(root), "--json", "status", root_dir=None)
    after = loaded("status", "--json")
    assert before.code == 0 and before.json()["totalPatterns"] == after.json()["totalPatterns"] > 0


def test_the_environment_sets_the_root(loaded: Runner, root: Path, tmp_path: Path) -> None:
    done = _proc("status", "--json", cwd=tmp_path, env={"DRIFTSTORE_ROOT": str(root)})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["totalPatterns"] > 0


def test_a_subfolder_finds_the_enclosing_store_and_creates_none(loaded: Runner, root: Path) -> None:
    deep = root / "src" / "api"
    deep.mkdir(parents=True)
    done = _proc("list", "--json", cwd=deep, env={})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["total"] > 0
    assert not (deep / ".drift").exists() and not (root / "src" / ".drift").exists()
    # a file given from the subfolder is still a project path
    assert _proc("file", "users.ts", cwd=deep, env={}).returncode == 0


def test_read_commands_without_a_store_say_so_and_create_nothing(run: Runner, root: Path) -> None:
    for command in (["status"], ["list"], ["history"], ["show", "x"], ["file", "a.ts"]):
        done = run(*command)
        assert done.code == 2, command
        assert done.err.count("\n") == 1 and "no driftstore store in" in done.err
        assert "driftstore init" in done.err
    assert not (root / ".drift").exists()


@pytest.mark.parametrize(
    ("plant", "named"),
    [
        ("legacy", "driftstore migrate"),
        ("shards", "driftstore import"),
        ("backup", "driftstore backup restore latest"),
    ],
)
def test_without_a_store_the_hint_names_the_command_for_what_is_there(
    run: Runner, root: Path, tmp_path: Path, plant: str, named: str
) -> None:
    if plant == "legacy":
        legacy = root / ".drift" / "patterns" / "discovered"
        legacy.mkdir(parents=True)
        (legacy / "api.json").write_text('{"version": "1.0.0", "patterns": []}')
    else:
        source = tmp_path / "source"
        source.mkdir()
        with driftstore.open(source) as store:
            store.ingest([entry("p1")])
            if plant == "shards":
                store.export(root / ".drift")
            else:
                store.backup()
        if plant == "backup":
            (root / ".drift").mkdir()
            (source / ".drift" / "backups").rename(root / ".drift" / "backups")
    done = run("status")
    assert done.code == 2 and named in done.err, done.err
    assert not (root / ".drift" / "drift.db").exists()


# --- help, version, usage, pipes --------------------------------------------------------
def test_no_arguments_prints_help_and_exits_0() -> None:
    done = _proc()
    assert done.returncode == 0 and "Commands:" in done.stdout and "ingest" in done.stdout


def test_version_names_sqlite_and_the_schema() -> None:
    done = _proc("--version")
    assert done.returncode == 0
    assert done.stdout.startswith(f"driftstore {driftstore.__version__} (SQLite 3.")
    assert "schema " in done.stdout


def test_a_usage_error_has_one_prefix(run: Runner) -> None:
    for args in (["lisst"], ["list", "--limit", "x"], ["list", "--category", "nope"]):
        done = run(*args)
        assert done.code == 2
        assert done.err.startswith("driftstore: ") and done.err.count("driftstore:") == 1
        assert done.err.count("\n") == 1


def test_category_is_checked_like_status(run: Runner) -> None:
    done = run("list", "--category", "nope")
    assert done.code == 2 and "'api'" in done.err


def test_a_closed_pipe_exits_quietly(loaded: Runner, root: Path) -> None:
    with driftstore.open(root) as store:
        store.ingest([entry(f"bulk{i:04d}") for i in range(3000)])
    done = _proc(
        shell=f"{sys.executable} -m driftstore.cli.main list --limit 0 --root {root} | head -1",
        env={"COLUMNS": "200"},
    )
    assert done.returncode == 0  # the pipeline's status is head's
    assert done.stderr == "", done.stderr
    assert len(done.stdout.splitlines()) == 1


def test_shell_completion_works_as_documented(tmp_path: Path) -> None:
    done = _proc(env={"_DRIFTSTORE_COMPLETE": "bash_source"})
    assert done.returncode == 0 and "complete" in done.stdout
    words = _proc(
        env={"_DRIFTSTORE_COMPLETE": "bash_complete", "COMP_WORDS": "driftstore ing",
             "COMP_CWORD": "1"},
    )  # fmt: skip
    assert "ingest" in words.stdout
    assert (
        'eval "$(_DRIFTSTORE_COMPLETE=bash_source driftstore)"' in (REPO / "README.md").read_text()
    )


# --- untrusted text ----------------------------------------------------------------------
HOSTILE_NAME = (
    "[bold red]boom[/] \x1b[31mred\x1b[0m \x1b]8;;http://evil.example\x07click\x1b]8;;\x07"
)


def test_untrusted_text_is_printed_literally(run: Runner, root: Path) -> None:
    with driftstore.open(root) as store:
        store.ingest(
            [
                entry(
                    "evil",
                    name=HOSTILE_NAME,
                    description="line\rover\x1b[2Jwrite",
                    files=["src/\x1b[32mgreen.ts"],
                    outlier_files=["src/[link=x]a[/link].ts"],
                )
            ]
        )
    for args in (["list"], ["show", "evil"], ["file", "src/\x1b[32mgreen.ts"], ["history"]):
        done = run(*args)
        assert done.code == 0, (args, done.err)
        assert ESC not in done.out and BEL not in done.out and "\r" not in done.out, args
    shown = run("show", "evil").out
    assert "[bold red]boom[/]" in shown  # markup shown as text, not applied
    assert "[link=x]a[/link]" in shown
    assert "\\x1b" in shown or "^[" in shown or "␛" in shown  # the escape is visible


def test_narrow_terminals_keep_ids_whole(loaded: Runner, root: Path) -> None:
    with driftstore.open(root) as store:
        ids = {s.id for s in store.query(limit=None).patterns}
        backup = store.backup()
    for columns in ("60", "40"):
        done = _proc("list", "--limit", "100", "--root", str(root), env={"COLUMNS": columns})
        assert done.returncode == 0
        shown = {line.split("│")[1].strip() for line in done.stdout.splitlines() if "│" in line}
        assert ids <= shown, f"ids cut at {columns} columns"
        backups = _proc("backup", "list", "--root", str(root), env={"COLUMNS": columns})
        assert backup in backups.stdout


# --- ids and paths --------------------------------------------------------------------------
def test_unique_id_prefixes_work_and_ambiguous_ones_list_candidates(
    run: Runner, root: Path
) -> None:
    with driftstore.open(root) as store:
        store.ingest([entry("abc123"), entry("abd456"), entry("xyz789")])
    assert run("show", "xyz", "--json").json()["id"] == "xyz789"
    assert run("approve", "abc1").code == 0
    assert run("ignore", "abd").code == 0
    ambiguous = run("show", "ab")
    assert ambiguous.code == 2 and "abc123" in ambiguous.err and "abd456" in ambiguous.err
    with driftstore.open(root) as store:
        assert store.require("abc123").status == "approved"
        assert store.require("abd456").status == "ignored"


def test_backup_restore_latest_and_by_prefix(run: Runner, root: Path) -> None:
    with driftstore.open(root) as store:
        store.ingest([entry("p1")])
        first = store.backup()
        store.ingest([entry("p2")])
        store.backup()
        store.ingest([entry("p3")])
    assert run("backup", "restore", "latest").code == 0
    with driftstore.open(root) as store:
        assert store.count() == 2
    assert run("backup", "restore", first.split("-")[0]).code == 0  # its time, unique
    with driftstore.open(root) as store:
        assert store.count() == 1


def test_file_takes_absolute_and_dotted_paths_and_refuses_outside(run: Runner, root: Path) -> None:
    with driftstore.open(root) as store:
        store.ingest([entry("p1", files=["src/api/users.ts"])])
    for given in (
        str(root / "src" / "api" / "users.ts"),
        "src/lib/../api/users.ts",
        "./src/api/users.ts",
    ):
        done = run("file", given, "--json")
        assert done.code == 0, done.err
        assert [p["id"] for p in done.json()["patterns"]] == ["p1"], given
    for outside in ("../elsewhere.ts", "/etc/passwd", "src/../../x.ts"):
        done = run("file", outside)
        assert done.code == 2 and done.err.count("\n") == 1 and "outside" in done.err, outside


def test_file_and_by_file_agree_on_disabled_patterns(run: Runner, root: Path) -> None:
    with driftstore.open(root) as store:
        store.ingest([entry("on", files=["a.ts"]), entry("off", files=["a.ts"])])
        store.add_variant("off", scope="file", path="a.ts", enabled=False)
        api_default = [p.id for p in store.by_file("a.ts")]
        api_all = [p.id for p in store.by_file("a.ts", include_disabled=True)]
    cli_default = [p["id"] for p in run("file", "a.ts", "--json").json()["patterns"]]
    cli_all = [
        p["id"] for p in run("file", "a.ts", "--include-disabled", "--json").json()["patterns"]
    ]
    assert api_default == cli_default == ["on"]
    assert api_all == cli_all == ["off", "on"]


# --- long lists ---------------------------------------------------------------------------------
def test_history_has_a_default_limit_and_says_there_is_more(run: Runner, root: Path) -> None:
    with driftstore.open(root) as store:
        store.ingest([entry(f"p{i:03d}") for i in range(80)])
    done = run("history")
    assert "more: --limit" in done.out
    assert len(run("history", "--json").json()) == 50
    assert len(run("history", "--limit", "0", "--json").json()) == 80


def test_file_and_show_print_line_col_once_and_cap_long_lists(run: Runner, root: Path) -> None:
    with driftstore.open(root) as store:
        store.ingest([entry("wide", files=["big.ts"] * 60, outlier_files=["big.ts"] * 30)])
    shown = run("show", "wide").out
    assert "more" in shown and "big.ts:60:1" not in shown
    assert "big.ts:60:1" in run("show", "wide", "--all").out
    filed = run("file", "big.ts").out
    assert "more" in filed
    assert filed.count("big.ts:1:1") + filed.count(" 1:1") <= 2


# --- errors as JSON, one key one meaning -----------------------------------------------------------
def test_json_errors_are_an_object_on_stdout_too(loaded: Runner) -> None:
    done = loaded("show", "nope", "--json")
    assert done.code == 2 and done.err.startswith("driftstore: ")
    document = json.loads(done.out)
    assert document["ok"] is False and "nope" in document["error"] and document["exitCode"] == 2


def test_a_json_key_means_one_thing(run: Runner, root: Path, tmp_path: Path) -> None:
    with driftstore.open(root) as store:
        store.ingest([entry("p1"), entry("p2", category="auth")])
    exported = run("export", "--out", str(tmp_path / "out"), "--json").json()
    assert isinstance(exported["writtenFiles"], list) and isinstance(exported["patternCount"], int)
    imported = run("import", str(tmp_path / "out"), "--json").json()
    for document in (exported, imported):
        for key, value in document.items():
            if key.endswith("Files"):
                assert isinstance(value, list), key
            if key.endswith("Count"):
                assert isinstance(value, int), key
        assert "files" not in document


# --- Ctrl-C -----------------------------------------------------------------------------------
def test_ctrl_c_after_the_commit_says_the_scan_was_stored(
    run: Runner, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("init")
    real = driftstore.PatternStore.ingest

    def commit_then_interrupt(self: driftstore.PatternStore, *a: object, **k: object) -> object:
        real(self, *a, **k)  # type: ignore[arg-type]
        raise KeyboardInterrupt

    monkeypatch.setattr(driftstore.PatternStore, "ingest", commit_then_interrupt)
    done = run("ingest", str(SAMPLE_SCAN))
    assert done.code == 130 and "after the scan was stored" in done.err
    monkeypatch.setattr(driftstore.PatternStore, "ingest", real)
    assert run("status", "--json").json()["totalPatterns"] > 0


def test_ctrl_c_before_the_commit_says_nothing_was_written(
    run: Runner, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("init")

    def interrupt(self: driftstore.PatternStore, *a: object, **k: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(driftstore.PatternStore, "ingest", interrupt)
    done = run("ingest", str(SAMPLE_SCAN))
    assert done.code == 130 and "nothing was written" in done.err


def test_a_missing_scan_creates_no_store(run: Runner, root: Path) -> None:
    done = run("ingest", str(root / "missing.json"))
    assert done.code == 2 and "no such file" in done.err
    assert not (root / ".drift").exists()


def test_an_explicit_root_is_not_said_to_be_searched(run: Runner, root: Path) -> None:
    done = run("status")
    assert str(root) in done.err and "any folder above" not in done.err


def test_json_shows_invisible_characters_as_escapes(run: Runner, root: Path) -> None:
    with driftstore.open(root) as store:
        store.ingest([entry("bidi", name="safe\u202eexe.ts \x85 zero\u200bwidth")])
    out = run("show", "bidi", "--json").out
    assert "\u202e" not in out and "\x85" not in out and "\u200b" not in out
    assert json.loads(out)["name"] == "safe\u202eexe.ts \x85 zero\u200bwidth"


def test_the_same_spot_listed_many_times_is_counted(run: Runner, root: Path) -> None:
    with driftstore.open(root) as store:
        store.add(entry("dup", files=["a.ts"]))
        store.update("dup", locations=[driftstore.Location(file="a.ts", line=7, column=3)] * 12)
    out = run("file", "a.ts").out
    assert "7:3 ×12" in out and out.count("7:3") == 1


def test_an_interrupt_while_opening_the_store_says_what_that_means(
    run: Runner, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("init")

    def interrupted(*_a: object, **_k: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(driftstore, "open", interrupted)
    done = run("status")
    assert done.code == 130 and "rolled back" in done.err and "aborted" not in done.err
