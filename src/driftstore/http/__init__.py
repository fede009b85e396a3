"""`driftstore serve`: a local, read-mostly JSON API over HTTP (Starlette + uvicorn).

A thin shell over `driftstore`: routes parse the request, call the PatternStore and send its
typed result as JSON with the store generation as ETag. Installed with the `http` extra;
`run.py` is the entry the CLI starts.
"""
