"""The docs test: every command and option has help text and a place in the README's
command reference, so a new option cannot land undocumented."""

from __future__ import annotations

import re
from collections.abc import Iterator

import click

from driftstore.cli.main import cli
from tests.conftest import REPO

#: every command takes these; the reference documents them once, above the commands
GLOBAL = {"--root", "--json", "--help", "--store", "--project"}


def _leaves(
    group: click.Group, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[str, click.Command]]:
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            assert command.help, f"group {' '.join((*prefix, name))} has no help"
            yield from _leaves(command, (*prefix, name))
        else:
            yield " ".join((*prefix, name)), command


def _reference() -> dict[str, str]:
    """`driftstore NAME` heading -> the text under it, from the README's reference."""
    text = (REPO / "README.md").read_text()
    assert "\n## Command reference\n" in text, "the README has no '## Command reference'"
    section = text.split("\n## Command reference\n", 1)[1].split("\n## ", 1)[0]
    blocks: dict[str, str] = {}
    for block in re.split(r"\n(?=### )", section):
        heading = re.match(r"### `driftstore ([a-z][a-z -]*[a-z])", block)
        if heading:
            blocks[heading.group(1).strip()] = block
    return blocks


def test_every_command_and_option_has_help() -> None:
    missing = []
    for name, command in _leaves(cli):
        if not command.help:
            missing.append(name)
        for param in command.params:
            if isinstance(param, click.Option) and not param.help:
                missing.append(f"{name} {param.opts[0]}")
    assert missing == [], f"no help text: {missing}"


def test_every_command_and_option_is_in_the_readme_reference() -> None:
    reference = _reference()
    missing = []
    for name, command in _leaves(cli):
        block = reference.get(name)
        if block is None:
            missing.append(f"command '{name}'")
            continue
        for param in command.params:
            if not isinstance(param, click.Option):
                continue
            for flag in (*param.opts, *param.secondary_opts):
                documented = re.search(rf"[`/]{re.escape(flag)}(?![\w-])", block)
                if flag.startswith("--") and flag not in GLOBAL and not documented:
                    missing.append(f"{name} {flag}")
    assert missing == [], f"missing from the README's command reference: {missing}"
    documented = set(reference)
    real = {name for name, _ in _leaves(cli)}
    assert documented <= real, (
        f"the reference names commands that do not exist: {documented - real}"
    )


def test_the_global_options_are_documented_once() -> None:
    text = (REPO / "README.md").read_text().split("\n## Command reference\n", 1)[1]
    for flag in ("--root", "--json", "--version", "DRIFTSTORE_ROOT"):
        assert flag in text.split("\n### ", 1)[0], flag
