"""The folder tree is the architecture: imports go one way, faces use the public API only,
and no module imports itself back through others.

    model, errors  →  engine  →  formats  →  index  →  facade  →  driftstore (public API)  →  faces

Every import counts, also those inside functions and under TYPE_CHECKING: a circle hidden
in a function is still a circle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = "driftstore"

#: layer of each top-level part of the package; a module may import its own layer and below
LAYERS: dict[str, int] = {
    "errors": 0,
    "model": 0,
    "engine": 1,
    "formats": 2,
    "index": 3,
    "facade": 4,
    "": 5,  # driftstore/__init__.py: the public API
}
#: the faces: thin shells that may import only the public API (`driftstore`) and themselves
FACES = ("cli", "lsp", "mcp", "http")
#: a face's doors for other faces: the CLI starts a server through its `run` module, and
#: `mcp --http` serves through the HTTP face's serving plumbing
FACE_DOORS = frozenset(
    {"driftstore.lsp.run", "driftstore.mcp.run", "driftstore.http.run", "driftstore.http.serving"}
)
#: drivers that only their engine's folder may import
DRIVERS = {"apsw": "engine.sqlite", "psycopg": "engine.postgres", "psycopg_pool": "engine.postgres"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every import in the file, resolved to a module name."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield module, node.lineno
            for alias in node.names:  # `from driftstore.engine import digests` is a module
                yield f"{module}.{alias.name}", node.lineno


def _part(module: str) -> str:
    """The top-level part of driftstore a module belongs to ('' for the package itself)."""
    rest = module.removeprefix(PACKAGE).removeprefix(".")
    return rest.split(".")[0]


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for target, _line in _imports(name, path):
            if target in modules and target != name:
                graph[name].add(target)
    return graph


def test_imports_point_down_the_layers() -> None:
    modules = _modules()
    wrong = []
    for name, path in modules.items():
        part = _part(name)
        for target, line in _imports(name, path):
            if target not in modules:
                continue
            goal = _part(target)
            where = f"{path.relative_to(SRC)}:{line} imports {target}"
            if part in FACES:
                if goal != part and target != PACKAGE and target not in FACE_DOORS:
                    wrong.append(f"{where} (a face imports only `driftstore` and itself)")
            elif goal in FACES:
                wrong.append(f"{where} (nothing imports a face)")
            elif LAYERS[goal] > LAYERS[part]:
                wrong.append(f"{where} (up the layers: {part or 'driftstore'} -> {goal})")
    assert wrong == []


def test_engine_implementations_are_reached_only_through_the_interface() -> None:
    modules = _modules()
    wrong = []
    for name, path in modules.items():
        own = name.removeprefix(PACKAGE + ".")
        for target, line in _imports(name, path):
            inner = target.removeprefix(PACKAGE + ".")
            for folder in ("engine.sqlite", "engine.postgres"):
                if inner.startswith(folder) and not (
                    own.startswith(folder) or own == "engine" or own.startswith("engine.")
                ):
                    wrong.append(f"{path.relative_to(SRC)}:{line} imports {target}")
            for driver, folder in DRIVERS.items():
                if target.split(".")[0] == driver and not own.startswith(folder):
                    wrong.append(f"{path.relative_to(SRC)}:{line} imports {driver}")
    assert wrong == []


def test_no_import_circles() -> None:
    graph = _graph()
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                circles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    # a package's __init__ re-exporting its own modules is not a circle between rooms
    real = [c for c in circles if not _package_reexport(c)]
    assert real == [], "\n".join(" -> ".join(c) for c in real)


def _package_reexport(circle: list[str]) -> bool:
    """`driftstore.index` -> `driftstore.index.file_index` -> `driftstore.index.answers`
    -> ... back to `driftstore.index`: only when a module reaches its own package's
    `__init__` because Python runs it first, not a design circle. Circles through the
    top-level package are real: a module must not need the public API it is part of."""
    first = circle[0]
    return first != PACKAGE and all(m.startswith(first + ".") or m == first for m in circle)


def test_the_layer_test_sees_a_wrong_import(tmp_path: Path) -> None:
    """The checks above parse real files: an upward import in a sample is found."""
    sample = tmp_path / "sample.py"
    sample.write_text("from driftstore.facade import store\n", encoding="utf-8")
    found = list(_imports("driftstore.engine.sample", sample))
    assert ("driftstore.facade", 1) in found
    assert LAYERS[_part("driftstore.facade")] > LAYERS[_part("driftstore.engine.sample")]
