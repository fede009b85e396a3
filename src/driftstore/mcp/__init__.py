"""`driftstore mcp`: the store for AI agents, over the Model Context Protocol (official SDK v2).

A thin shell over `driftstore`: tools and resources call the PatternStore and send its typed
results, with output schemas derived from those results (`schemas.py`). Installed with the
`mcp` extra; `run.py` is the entry the CLI starts, and nothing here is imported before it.
"""
