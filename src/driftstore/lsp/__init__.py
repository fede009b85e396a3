"""`driftstore lsp`: the store for editors, as a language server over stdio (pygls 2).

A thin shell over `driftstore`: diagnostics are the facade's `diagnostics` (from the
in-memory by-file index), hovers and lenses read the store, actions write through it. The
`lsp` extra installs pygls and lsprotocol; `run.py` is the entry the CLI starts.
"""
