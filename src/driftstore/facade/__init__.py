"""The public facade: `open(root) -> PatternStore`."""

from driftstore.facade.store import PatternStore, open

__all__ = ["IngestReport", "PatternStore", "open"]


def __getattr__(name: str) -> object:
    # IngestReport lives with the scan merge, which a one-shot read command never loads
    if name == "IngestReport":
        from driftstore.facade.ingest import IngestReport

        return IngestReport
    raise AttributeError(name)
