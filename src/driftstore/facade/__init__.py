"""The public facade: `open(root) -> PatternStore`."""

from driftstore.facade.ingest import IngestReport
from driftstore.facade.store import PatternStore, open

__all__ = ["IngestReport", "PatternStore", "open"]
