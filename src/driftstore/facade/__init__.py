"""The public facade: `open(root) -> PatternStore`, and the by-project operations beside it."""

from driftstore.facade.store import PatternStore, open

__all__ = ["PatternStore", "open"]
