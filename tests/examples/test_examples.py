"""Code examples: read from project files only, checked ranges, fresh extraction."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import driftstore
from driftstore import InvalidInputError, PatternNotFoundError, to_builtins
from driftstore.facade.examples import MAX_EXAMPLE_LINES, language_for, parse_lines
from tests.clirun import run_cli
from tests.factories import make_pattern
from tests.variants.cli_helper import assert_one_line_error

SOURCE = "\n".join(f"const line{n} = {n};" for n in range(1, 31)) + "\n"


@pytest.fixture
def project(store: driftstore.PatternStore) -> driftstore.PatternStore:
    src = store.root / "src" / "api"
    src.mkdir(parents=True)
    (src / "users.ts").write_text(SOURCE)
    (src / "orders.py").write_text(SOURCE)
    store.add(
        make_pattern(
            "p1",
            files=["src/api/users.ts", "src/api/orders.py", "src/gone.ts"],
            outlier_files=["src/api/users.ts"],
        )
    )
    return store


def test_an_example_is_cut_from_the_project_file(project: driftstore.PatternStore) -> None:
    good = project.add_example("p1", "./src\\api/users.ts", "3-5", by="ana")
    assert (good.file, good.line_start, good.line_end, good.is_positive) == (
        "src/api/users.ts",
        3,
        5,
        True,
    )
    assert good.code == "const line3 = 3;\nconst line4 = 4;\nconst line5 = 5;"
    assert good.language == "typescript"
    bad = project.add_example("p1", "src/api/orders.py", "7", bad=True)
    assert (bad.code, bad.is_positive, bad.language) == ("const line7 = 7;", False, "python")
    assert project.examples("p1") == [good, bad]
    assert [e["id"] for e in to_builtins(project.describe("p1"))["examples"]] == [good.id, bad.id]
    entry = project.history("p1", limit=1)[0]
    assert (entry.action, entry.reason) == ("updated", "example added")
    project.remove_example(bad.id or 0)
    assert project.examples("p1") == [good]


def _refused(project: driftstore.PatternStore, file: str, lines: str, message: str) -> None:
    before = len(project.history())
    with pytest.raises(InvalidInputError, match=message):
        project.add_example("p1", file, lines)
    assert project.examples("p1") == []
    assert len(project.history()) == before


@pytest.mark.parametrize(
    ("file", "lines", "message"),
    [
        ("../../etc/passwd", "1-2", "outside the project"),
        ("/etc/passwd", "1-2", "outside the project"),
        ("src/../../etc/passwd", "1-2", "outside the project"),
        ("src/api/missing.ts", "1-2", "does not exist"),
        ("src/api", "1-2", "not a regular file"),
        ("src/api/users.ts", "29-31", "past the end"),
        ("src/api/users.ts", "5-3", "END must not be before"),
        ("src/api/users.ts", "0-2", "lines start at 1"),
        ("src/api/users.ts", "a-b", "not a range"),
        ("src/api/users.ts", f"1-{MAX_EXAMPLE_LINES + 1}", "at most"),
    ],
)
def test_hostile_or_wrong_requests_are_refused(
    project: driftstore.PatternStore, file: str, lines: str, message: str
) -> None:
    _refused(project, file, lines, message)


def test_links_out_of_the_project_are_not_followed(
    project: driftstore.PatternStore, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("password\n")
    os.symlink(secret, project.root / "src" / "leak.ts")
    os.symlink(tmp_path, project.root / "src" / "outside")
    _refused(project, "src/leak.ts", "1", "through a link")
    _refused(project, "src/outside/secret.txt", "1", "through a link")
    # a link that stays inside the project is fine
    os.symlink(project.root / "src" / "api" / "users.ts", project.root / "src" / "alias.ts")
    assert project.add_example("p1", "src/alias.ts", "1").code == "const line1 = 1;"


def test_binary_and_non_utf8_files_are_refused(project: driftstore.PatternStore) -> None:
    (project.root / "src" / "blob.ts").write_bytes(b"abc\x00def\n")
    (project.root / "src" / "latin.ts").write_bytes(b"caf\xe9\n")
    _refused(project, "src/blob.ts", "1", "binary")
    _refused(project, "src/latin.ts", "1", "not UTF-8")


def test_unknown_pattern_is_refused(project: driftstore.PatternStore) -> None:
    with pytest.raises(PatternNotFoundError):
        project.add_example("nope", "src/api/users.ts", "1")
    with pytest.raises(PatternNotFoundError):
        project.examples("nope")


def test_fresh_examples_come_from_the_locations_and_skip_missing_files(
    project: driftstore.PatternStore,
) -> None:
    found = project.examples_for("p1", max=3, context=1)
    # src/gone.ts does not exist; the outlier location is not an example
    assert [(e.file, e.line_start, e.line_end, e.language) for e in found] == [
        ("src/api/orders.py", 1, 3, "python"),
        ("src/api/users.ts", 1, 2, "typescript"),
    ]
    assert found[1].code == "const line1 = 1;\nconst line2 = 2;"
    assert all(e.id is None for e in found)  # fresh: nothing stored
    assert project.examples("p1") == []
    assert len(project.examples_for("p1", max=1)) == 1
    with pytest.raises(InvalidInputError):
        project.examples_for("p1", max=-1)


def test_fresh_examples_take_more_than_one_window_per_file(store: driftstore.PatternStore) -> None:
    (store.root / "a.ts").write_text(SOURCE)
    p = make_pattern("p2", files=["a.ts", "a.ts", "a.ts"])
    p.locations[1].line, p.locations[2].line = 3, 20
    store.add(p)
    found = store.examples_for("p2", max=5, context=2)
    # line 1 and line 3 overlap: one window; line 20 is another
    assert [(e.line_start, e.line_end) for e in found] == [(1, 3), (18, 22)]


def test_language_comes_from_the_extension() -> None:
    assert language_for("a/b.TSX") == "tsx"
    assert language_for("x.go") == "go"
    assert language_for("Makefile") is None


@given(text=st.text(alphabet="0123456789- ab", max_size=12))
def test_line_ranges_parse_or_fail_with_one_clear_line(text: str) -> None:
    try:
        start, end = parse_lines(text)
    except InvalidInputError as exc:
        assert "\n" not in str(exc) and "lines" in str(exc)
    else:
        assert 1 <= start <= end < start + MAX_EXAMPLE_LINES
        assert int(text.strip().split("-")[0]) == start


def test_example_cli_end_to_end(
    project: driftstore.PatternStore, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project.root
    added = run_cli(
        capsys,
        root,
        "example",
        "add",
        "p1",
        "--file",
        "src/api/users.ts",
        "--lines",
        "2-3",
        "--bad",
        "--json",
    )
    assert added.code == 0, added.err
    assert added.json()["isPositive"] is False
    listed = run_cli(capsys, root, "example", "list", "p1", "--json").json()
    assert [e["code"] for e in listed] == ["const line2 = 2;\nconst line3 = 3;"]
    human = run_cli(capsys, root, "example", "list", "p1")
    assert "const line2 = 2;" in human.out
    fresh = run_cli(capsys, root, "example", "list", "p1", "--fresh", "--max", "1", "--json").json()
    assert len(fresh) == 1 and fresh[0]["file"] == "src/api/orders.py"
    shown = run_cli(capsys, root, "show", "p1")
    assert shown.code == 0 and "examples" in shown.out
    assert_one_line_error(
        run_cli(
            capsys, root, "example", "add", "p1", "--file", "../../etc/passwd", "--lines", "1-2"
        ),
        2,
        "outside the project",
    )
    assert_one_line_error(
        run_cli(
            capsys, root, "example", "add", "p1", "--file", "src/api/users.ts", "--lines", "40-41"
        ),
        2,
        "past the end",
    )
    assert_one_line_error(
        run_cli(capsys, root, "example", "remove", "99"), 2, "example 99 not found"
    )
