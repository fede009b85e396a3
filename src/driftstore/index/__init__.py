"""The in-memory by-file index (`FileIndex`) and the same answer read straight from the
store (`read_file_patterns`). It reads through the engine like the facade does."""

from driftstore.index.direct import read_file_patterns
from driftstore.index.file_index import FileIndex

__all__ = ["FileIndex", "read_file_patterns"]
