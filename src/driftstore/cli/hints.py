"""The CLI's way out of each error: the command that does what the library's message asks.

Library errors carry a `remedy` code (driftstore.Remedy); only here does it become a
command line, so the library speaks to any caller and the CLI to its user.
"""

from __future__ import annotations

from pathlib import Path

from driftstore import DriftStoreError, Remedy

HINTS = {
    Remedy.RESTORE_BACKUP: (
        "run 'driftstore verify' to see what is damaged, then 'driftstore backup restore latest' "
        "or an id from 'driftstore backup list'"
    ),
    Remedy.LIST_PATTERNS: "see the stored ids with 'driftstore list'",
    Remedy.LIST_BACKUPS: "see them with 'driftstore backup list'",
    Remedy.LIST_VARIANTS: "see them with 'driftstore variant list'",
    Remedy.LIST_EXAMPLES: "see them with 'driftstore example list ID'",
    Remedy.CREATE_STORE: "create one with 'driftstore init'",
    Remedy.EXPORT_SHARDS: (
        "write them with 'driftstore export'; drift 0.9 folders are read by 'driftstore migrate'"
    ),
    Remedy.FORCE_IMPORT: "or run 'driftstore import --force' to accept it as it is",
    Remedy.FORCE_PRUNE: "add --force to prune anyway; a backup is taken first",
}


def hint_for(exc: DriftStoreError) -> str | None:
    return HINTS.get(exc.remedy) if exc.remedy else None


def no_store_hint(root: Path, *, searched: bool = True, place: str | None = None) -> str:
    """One line for a read command run where there is no store: what is there instead and
    the command that brings it in."""
    import driftstore

    found = driftstore.folder_contents(root)
    ways = []
    if found.legacy:
        ways.append("'driftstore migrate' brings in the drift 0.9 data here")
    if found.shards:
        ways.append("'driftstore import' rebuilds the store from the shards here")
    if found.backups:
        ways.append("'driftstore backup restore latest' brings back its last backup")
    if not ways:
        ways.append("'driftstore init' creates one, 'driftstore ingest SCAN' fills it")
    where = f"{root} or any folder above it" if searched else str(root)
    if place is not None:  # a shared store: the project is missing there
        where = f"{where} ({place}; 'driftstore projects' lists the projects there)"
    return f"no driftstore store in {where}; " + "; ".join(ways)
