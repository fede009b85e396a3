"""The OpenAPI 3.1 document of /v1, built from the same result types the routes send
(`msgspec.json.schema_components`), so the document and the server cannot drift apart; a
test fuzzes the server from it."""

from __future__ import annotations

from typing import Any

import msgspec

import driftstore
from driftstore.http import params as p
from driftstore.http.shapes import DecisionBody, ErrorEnvelope


def openapi_document() -> dict[str, Any]:
    kinds = [
        driftstore.StatusReport,
        driftstore.PatternPage,
        driftstore.PatternDetail,
        driftstore.FileReport,
        driftstore.OutlierList,
        driftstore.HistoryList,
        driftstore.DecisionReport,
        ErrorEnvelope,
        DecisionBody,
    ]
    schemas, components = msgspec.json.schema_components(
        kinds, ref_template="#/components/schemas/{name}"
    )
    status_s, page_s, detail_s, file_s, outliers_s, history_s, decision_s, error_s, body_s = schemas

    def answers(schema: dict[str, Any], **errors: str) -> dict[str, Any]:
        found: dict[str, Any] = {
            "200": {
                "description": "OK",
                "headers": {"ETag": {"schema": {"type": "string"}}},
                "content": {"application/json": {"schema": schema}},
            },
            "304": {"description": "Not modified: If-None-Match named the current generation"},
        }
        # what the guard in front of every route can answer
        errors = {
            "400": "Bad request",
            "404": "Not found",
            "403": "Origin not allowed (see --cors)",
            "421": "Host not served here",
            **errors,
        }
        for code, text in errors.items():
            found[code] = {
                "description": text,
                "content": {"application/json": {"schema": error_s}},
            }
        return found

    decision = {
        "parameters": [p.PATTERN_ID.document()],
        "security": [{"bearer": []}],
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": body_s}},
        },
        "responses": answers(
            decision_s,
            **{
                "401": "Missing or wrong bearer token",
                "404": "No such pattern",
                "409": "The move is not allowed",
                "413": "Body too large",
            },
        ),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "driftstore",
            "version": driftstore.__version__,
            "description": "The local HTTP API of `driftstore serve`. Every GET answer's ETag "
            "is the store generation it was read at.",
        },
        "paths": {
            "/v1/status": {
                "get": {"operationId": "status", "responses": answers(status_s)},
            },
            "/v1/patterns": {
                "get": {
                    "operationId": "listPatterns",
                    "parameters": [x.document() for x in p.LIST_PATTERNS],
                    "responses": answers(
                        page_s, **{"409": "The store changed since the cursor was made"}
                    ),
                }
            },
            "/v1/patterns/{id}": {
                "get": {
                    "operationId": "getPattern",
                    "parameters": [p.PATTERN_ID.document()],
                    "responses": answers(detail_s, **{"404": "No such pattern"}),
                }
            },
            "/v1/patterns/{id}/approve": {"post": {"operationId": "approve", **decision}},
            "/v1/patterns/{id}/ignore": {"post": {"operationId": "ignore", **decision}},
            "/v1/files/{path}": {
                "get": {
                    "operationId": "filePatterns",
                    "parameters": [p.FILE_PATH.document()],
                    "responses": answers(file_s),
                }
            },
            "/v1/outliers": {
                "get": {
                    "operationId": "outliers",
                    "parameters": [x.document() for x in p.OUTLIERS],
                    "responses": answers(outliers_s),
                }
            },
            "/v1/history": {
                "get": {
                    "operationId": "history",
                    "parameters": [x.document() for x in p.HISTORY],
                    "responses": answers(history_s, **{"404": "No such pattern"}),
                }
            },
            "/v1/events": {
                "get": {
                    "operationId": "events",
                    "description": "Server-sent events: `store` with the new generation each "
                    "time the store changes; resumable with Last-Event-ID.",
                    "responses": {
                        "200": {
                            "description": "An event stream",
                            "content": {"text/event-stream": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
