"""Hypothesis strategies for the file formats: awkward numbers, unicode, every legacy shape."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from driftstore import (
    Confidence,
    Detector,
    DetectorConfig,
    Location,
    Metadata,
    Pattern,
    Severity,
    Status,
)

#: numbers JavaScript and Python spell differently, and some that are simply hard
UNIT_FLOATS = (1.0, 0.0, 1e-7, 2.5e-6, 1e-6, 0.1 + 0.2, 0.7949999999999999, 0.5)
unit_floats = st.sampled_from(UNIT_FLOATS) | st.floats(0.0, 1.0, allow_subnormal=False)
any_floats = st.sampled_from(
    (*UNIT_FLOATS, 5.0, -0.0, 1e21, 1e16, 1.2345678901234568e20, -3.5e-300)
) | st.floats(allow_nan=False, allow_infinity=False)
safe_ints = st.integers(-(2**53) + 1, 2**53 - 1)
#: any unicode but lone surrogates (JSON parsers refuse them), including control and astral
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=10)

json_values = st.recursive(
    st.none() | st.booleans() | safe_ints | any_floats | texts,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=12,
)

_SEGMENTS = st.sampled_from(["src", "lib", "api", "Über", "日付", "ui kit", "a.b", "x-y"])
_STEMS = st.sampled_from(["index.ts", "users.tsx", "naïve.py", "😀.md", "Cart.vue"])


@st.composite
def project_paths(draw: st.DrawFn) -> str:
    parts = [*draw(st.lists(_SEGMENTS, min_size=0, max_size=3)), draw(_STEMS)]
    return "/".join(parts)


pattern_ids = st.integers(0, 2**64 - 1).map(lambda n: f"{n:016x}")
extra_keys = texts.map(lambda t: "x" + t)
extra_maps = st.dictionaries(extra_keys, json_values, max_size=2)


@st.composite
def locations(draw: st.DrawFn, *, outlier_list: bool = False) -> Location:
    path = draw(project_paths())
    loc = Location(file=path, line=draw(st.integers(1, 10**6)), column=draw(st.integers(0, 500)))
    if draw(st.booleans()):
        loc.original_file = path.replace("/", "\\")
    if outlier_list:
        loc.reason = draw(texts)
        if draw(st.booleans()):
            loc.deviation_score = draw(unit_floats)
    elif draw(st.booleans()):
        loc.is_outlier = draw(st.booleans())
        loc.confidence = draw(unit_floats)
        if loc.is_outlier:
            loc.outlier_reason = draw(texts)
    if draw(st.booleans()):
        loc.end_line = loc.line + draw(st.integers(0, 5))
        loc.snippet = draw(texts)
    extras = draw(extra_maps)
    if extras:
        loc.extras = extras
    return loc


@st.composite
def patterns(draw: st.DrawFn, *, category: str = "api") -> Pattern:
    """Patterns as the store gives them back (every field in its stored form)."""
    pid = draw(pattern_ids)
    meta = Metadata(
        first_seen="2026-01-20T09:00:00.000Z",
        last_seen="2026-01-23T14:47:53.218Z",
        source="auto-detected",
        tags=draw(st.lists(texts, max_size=3)),
    )
    if draw(st.booleans()):
        meta.custom = {"note": draw(texts), "weight": draw(any_floats)}
    extras = draw(extra_maps)
    if extras:
        meta.extras = extras
    confidence = Confidence(
        score=draw(unit_floats),
        frequency=draw(unit_floats),
        consistency=draw(unit_floats),
        age=draw(st.integers(0, 400)),
        spread=draw(st.integers(0, 50)),
    )
    confidence.level = confidence.effective_level
    status = draw(st.sampled_from(list(Status)))
    if status == Status.APPROVED:
        meta.approved_at = "2026-02-01T00:00:00.000Z"
    p = Pattern(
        id=pid,
        name=draw(texts.filter(bool)) if draw(st.booleans()) else f"Pattern {pid}",
        category=category,
        subcategory=draw(st.sampled_from(["routes", "naming", "tokens"])),
        description=draw(texts),
        status=status,
        detector=Detector(
            type="regex",
            config=DetectorConfig(detector_id=f"{category}/x", pattern_id=f"{category}/x/{pid}"),
        ),
        confidence=confidence,
        detection_method="regex",
        confidence_level=confidence.effective_level,
        locations=draw(st.lists(locations(), max_size=4)),
        outliers=draw(st.lists(locations(outlier_list=True), max_size=2)),
        metadata=meta,
        severity=draw(st.sampled_from(list(Severity))),
        auto_fixable=draw(st.booleans()),
    )
    top = draw(extra_maps)
    if top:
        p.extras = top
    return p


# --- drift 0.9 entries as JSON data ----------------------------------------------------
def _maybe_windows(draw: st.DrawFn, path: str) -> str:
    return path.replace("/", "\\") if draw(st.booleans()) else path


def _with_extras(draw: st.DrawFn, obj: dict[str, Any]) -> dict[str, Any]:
    """Unknown keys inserted at random places, then maybe the whole order shuffled."""
    items = list(obj.items())
    for key, value in draw(extra_maps).items():
        items.insert(draw(st.integers(0, len(items))), (key, value))
    if draw(st.integers(0, 4)) == 0:
        items = draw(st.permutations(items))
    return dict(items)


@st.composite
def legacy_locations(draw: st.DrawFn, shape: str) -> dict[str, Any]:
    loc: dict[str, Any] = {
        "file": _maybe_windows(draw, draw(project_paths())),
        "line": draw(st.integers(1, 10**6)),
        "column": draw(st.integers(0, 500)),
    }
    if shape == "A2":
        flag = draw(st.booleans())
        loc["isOutlier"] = flag
        loc["confidence"] = draw(unit_floats)
        if flag:
            loc["outlierReason"] = draw(texts)
    if draw(st.integers(0, 5)) == 0:
        loc["endLine"] = loc["line"] + 1
        loc["snippet"] = draw(texts)
    return _with_extras(draw, loc)


@st.composite
def legacy_outliers(draw: st.DrawFn) -> dict[str, Any]:
    loc = {
        "file": _maybe_windows(draw, draw(project_paths())),
        "line": draw(st.integers(1, 10**6)),
        "column": draw(st.integers(0, 500)),
        "reason": draw(texts),
        "deviationScore": draw(unit_floats),
    }
    return _with_extras(draw, loc)


@st.composite
def legacy_entries(draw: st.DrawFn, pid: str, category: str) -> dict[str, Any]:
    """One drift 0.9 entry in shape A1, A2, A3 or flavour B."""
    shape = draw(st.sampled_from(["A1", "A2", "A3", "B"]))
    sub = draw(st.sampled_from(["routes", "naming", "tokens"]))
    level = draw(st.sampled_from(["high", "medium", "low", "uncertain"]))
    score = draw(unit_floats)
    locs = draw(st.lists(legacy_locations("A2" if shape == "A2" else "A1"), max_size=4))
    meta: dict[str, Any] = {
        "firstSeen": "2026-01-20T09:00:00.000Z",
        "lastSeen": "2026-01-23T14:47:53.218Z",
    }
    if shape != "A3":
        meta.update(source="auto-detected", tags=draw(st.lists(texts, max_size=3)))
    if draw(st.booleans()):
        meta["approvedAt"] = "2026-01-24T08:00:00.000Z"
    entry: dict[str, Any] = {
        "id": pid,
        "subcategory": sub,
        "name": f"{sub} detector",
        "description": draw(texts),
    }
    if shape == "B":
        entry.update(
            detectorId=f"{category}/{sub}",
            detectorName=draw(texts),
            detectionMethod="ast",
            detector={"type": "ast", "config": _with_extras(draw, {})},
            confidence=score,
            confidenceLevel=level,
            locations=locs,
            outliers=draw(st.lists(legacy_outliers(), max_size=2)),
            severity=draw(st.sampled_from(["error", "warning", "info", "hint"])),
            firstSeen="2026-01-20T09:00:00.000Z",
            lastSeen=draw(
                st.sampled_from(["2026-01-23T14:47:53.218Z", "2026-02-01T00:00:00.000Z"])
            ),
            tags=[category],
            autoFixable=draw(st.booleans()),
            metadata=_with_extras(draw, meta),
        )
        return _with_extras(draw, entry)
    entry["detector"] = _with_extras(
        draw,
        {
            "type": "regex",
            "config": _with_extras(
                draw, {"detectorId": f"{category}/{sub}", "patternId": f"{category}/{sub}/{pid}"}
            ),
        },
    )
    confidence = {
        "frequency": draw(unit_floats),
        "consistency": draw(unit_floats),
        "age": draw(st.integers(0, 99)),
        "spread": len(locs),
        "score": score,
        "level": level,
    }
    entry["confidence"] = _with_extras(draw, confidence)
    entry["locations"] = locs
    if shape == "A1":
        entry["outliers"] = draw(st.lists(legacy_outliers(), max_size=2))
    elif shape == "A2":
        entry["outliers"] = []
    entry["metadata"] = _with_extras(draw, meta)
    entry["severity"] = draw(st.sampled_from(["error", "warning", "info", "hint"]))
    entry["autoFixable"] = draw(st.booleans())
    return _with_extras(draw, entry)
