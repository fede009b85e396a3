"""Hostile input generators: JSON values, mutated scan entries and byte-level mutations."""

from __future__ import annotations

import copy
import random
from typing import Any

from hypothesis import strategies as st

from tests.faults.data import scan

#: strings that break naive SQL, LIKE patterns, JSON, shells and terminals
NASTY = [
    "'; DROP TABLE patterns; --",
    '" OR "1"="1',
    "100% _done_ \\%",
    "a'b\"c`d",
    "/* comment */ --",
    "\x00nul inside",
    "line\nbreak\r\ntab\t",
    "\u202eRTL override",
    "e\u0301 combining",
    "\U0001f600 emoji",
    "\ud7ff\ue000\ufffd",
    "Robert'); DELETE FROM pattern_history; --",
]
#: paths a location, example or variant might use to leave the project
ESCAPING = [
    "../outside.ts",
    "../../etc/passwd",
    "/etc/passwd",
    "C:\\Windows\\system.ini",
    "c:/x.ts",
    "..\\..\\secret.ts",
    "src/../../outside.ts",
    "src\\..\\..\\outside.ts",
    "./../x.ts",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(NASTY + ESCAPING),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)

BASE_ENTRIES = scan("h", 1, patterns=4, locations=3)
TOP_KEYS = [*sorted({key for e in BASE_ENTRIES for key in e}), "status", "confidenceLevel"]
LOCATION_KEYS = ["file", "line", "column", "endLine", "isOutlier", "snippet", "reason"]


@st.composite
def hostile_entry(draw: st.DrawFn) -> Any:
    """A valid scan entry with up to four things broken, or now and then not an object."""
    if draw(st.integers(0, 15)) == 0:
        return draw(json_values)
    entry = copy.deepcopy(draw(st.sampled_from(BASE_ENTRIES)))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["drop", "set", "unknown", "location", "path", "nasty"]))
        if op == "drop":
            entry.pop(draw(st.sampled_from(TOP_KEYS)), None)
        elif op == "set":
            entry[draw(st.sampled_from(TOP_KEYS))] = draw(json_values)
        elif op == "unknown":
            entry[draw(st.text(min_size=1, max_size=8))] = draw(json_values)
        elif op == "location" and isinstance(entry.get("locations"), list) and entry["locations"]:
            loc = entry["locations"][0]
            if isinstance(loc, dict):
                loc[draw(st.sampled_from(LOCATION_KEYS))] = draw(json_values)
        elif op == "path" and isinstance(entry.get("locations"), list) and entry["locations"]:
            entry["locations"][-1] = {
                "file": draw(st.sampled_from(ESCAPING)),
                "line": 1,
                "column": 1,
            }
        elif op == "nasty":
            entry[draw(st.sampled_from(["name", "description", "id", "subcategory"]))] = draw(
                st.sampled_from(NASTY)
            )
    return entry


def mutate(data: bytes, rng: random.Random, *, edits: int | None = None) -> bytes:
    """Random byte-level damage: flips, deletions, insertions, duplicated slices, a cut."""
    out = bytearray(data)
    for _ in range(edits or rng.randint(1, 4)):
        if not out:
            break
        at = rng.randrange(len(out))
        op = rng.randrange(5)
        if op == 0:
            out[at] ^= 1 << rng.randrange(8)
        elif op == 1:
            del out[at : at + rng.randint(1, 64)]
        elif op == 2:
            out[at:at] = rng.randbytes(rng.randint(1, 16))
        elif op == 3:
            out[at:at] = out[at : at + rng.randint(1, 200)]
        else:
            del out[at:]
    return bytes(out)
