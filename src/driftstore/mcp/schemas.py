"""Tools whose output schema is msgspec's schema of the driftstore result they return.

The SDK derives output schemas only from pydantic models and TypedDicts; driftstore's
results are msgspec Structs. A tool is therefore built from a plain function plus the
result type: the input schema still comes from the function's signature (pydantic), the
output schema from `msgspec.json.schema(result type)`, and the structured content is the
result's JSON form (`driftstore.to_builtins`), so a client validating one against the
other sees them agree.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import anyio.to_thread
import msgspec
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult, TextContent, ToolAnnotations

import driftstore

READ = ToolAnnotations(
    read_only_hint=True, idempotent_hint=True, destructive_hint=False, open_world_hint=False
)
WRITE = ToolAnnotations(
    read_only_hint=False, idempotent_hint=True, destructive_hint=False, open_world_hint=False
)
ADD = ToolAnnotations(  # add_variant returns the same variant when asked twice
    read_only_hint=False, idempotent_hint=True, destructive_hint=False, open_world_hint=False
)


def object_schema(kind: Any) -> dict[str, Any]:
    """msgspec's schema with its root inlined: MCP wants `"type": "object"` at the root,
    msgspec gives `{"$ref": ..., "$defs": ...}`."""
    schema: dict[str, Any] = msgspec.json.schema(kind)
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        defs = schema["$defs"]
        return {**defs[ref.removeprefix("#/$defs/")], "$defs": defs}
    return schema


def result_of(value: Any) -> CallToolResult:
    data = driftstore.to_builtins(value)
    return CallToolResult(
        content=[TextContent(type="text", text=msgspec.json.encode(data).decode())],
        structured_content=data,
    )


def typed_tool(
    fn: Callable[..., Any],
    *,
    out: Any,
    annotations: ToolAnnotations,
    name: str | None = None,
) -> Tool:
    """A Tool running `fn` in a worker thread; a DriftStoreError becomes a tool error
    whose one line the model sees."""
    signature = inspect.signature(fn, eval_str=True)

    @functools.wraps(fn)
    async def call(**kwargs: Any) -> CallToolResult:
        try:
            value = await anyio.to_thread.run_sync(functools.partial(fn, **kwargs))
        except driftstore.DriftStoreError as exc:
            raise ToolError(" ".join(str(exc).split())) from exc
        return result_of(value)

    call.__signature__ = signature.replace(return_annotation=CallToolResult)  # type: ignore[attr-defined]
    tool = Tool.from_function(call, name=name or fn.__name__, annotations=annotations)
    # the SDK's seam for a schema it did not derive: advertised as given
    tool.fn_metadata.output_schema = object_schema(out)
    return tool
