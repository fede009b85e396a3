"""The API fuzzed from its own OpenAPI document (schemathesis), against a real uvicorn on
127.0.0.1 with a filled store, for a bounded number of cases: every answer is documented,
matches its schema, and none is a 500 or shows a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

import driftstore
from driftstore.http.api import build_app
from driftstore.http.openapi import openapi_document
from driftstore.http.serving import running
from tests.http.test_api import ask
from tests.mcp.conftest import fill

TOKEN = "fuzz-token"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root: Path = tmp_path_factory.mktemp("fuzz")
    with driftstore.open(root) as store:
        fill(store)
        with running(build_app(store, token=TOKEN)) as base:
            yield base


# the document is built here, by the function the server serves it from (the first test
# checks they are the same), because schemathesis' fixture loader fails under pytest 9
schema = schemathesis.openapi.from_dict(openapi_document())
schema.config.generation.update(max_examples=15)


def test_the_served_document_is_the_fuzzed_one(live: str) -> None:
    served = ask(live, "GET", "/v1/openapi.json").json()
    assert served == json.loads(msgspec.json.encode(openapi_document()))


@schema.exclude(path="/v1/events").parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_does_what_its_document_says(case: schemathesis.Case, live: str) -> None:
    response = case.call_and_validate(base_url=live, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code < 500
    assert "Traceback" not in response.text
