"""The engine contract suite: what every engine behind `driftstore.engine.base` must do.

Every test here takes the `engine` (or `kit`, `stores`) fixture of `conftest.py`, which is
parametrised by `kits.KITS`, so each test runs once per engine (`test_x[sqlite]`,
later `test_x[postgresql]`). Tests speak only the interface (`Engine`, `Reader`, `Writer`,
`StoreLocation`); the few things the interface cannot express live in one `EngineKit` per
engine in `kits.py`.

How a new engine joins the suite
--------------------------------
1. Write the engine: a folder under `src/driftstore/engine/` implementing `engine.base`.
2. Add one `EngineKit` to `kits.KITS`:
   - `name`: the test id;
   - `locate(folder)`: the engine's `StoreLocation` for a fresh store belonging to that
     folder (not created yet; the same folder must give the same store again, also in
     another process: `worker.py` calls it from a subprocess);
   - `damage_value(engine, pattern_id)`: raw SQL that changes a value of the pattern's
     row behind the engine's back (committed), so its digest no longer matches;
   - `raw_count(engine, table)`: rows in one of `kits.TABLES`, counted with raw SQL;
   - `raw_stamp(engine, pattern_id, column)`: the pattern row's created_at/updated_at,
     read with raw SQL (no Reader method returns them);
   - `secret`: a password the kit's `locate` puts in the store's address (None if the
     engine has none), which `describe()`, `info()` and errors must never show;
   - `serve()`: a context manager entered once per session before the first store is
     made (start a server, create a scratch database; export what `locate` needs, in
     `os.environ` if a subprocess must find it too). CI must start the server itself: a
     missing server fails the suite, it never skips.
3. Run `pytest tests/engine/contract`: every test must pass for the new kit. Nothing else in
   the suite changes; a test that needs an engine-specific branch is a sign the interface
   (or the kit) is missing something.

The suite is meant to stay fast (well under a minute per engine on two cores): stores are
small, hypothesis examples few (`conftest.py` sets the budget).
"""
