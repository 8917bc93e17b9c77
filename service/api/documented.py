"""The error answers every API operation can give, declared once in the OpenAPI document.

Each route keeps its own ``responses=`` for what is particular to it (a 409 for a stale
version, a 429 for sign-in); what follows from how the whole API is built is added here, from
the operation as the document describes it, so a new route cannot forget it:

- 400: an unknown query parameter (see ``deps.no_unknown_query``) or a body that is not JSON;
- 401 and 403: an operation that takes a bearer token (none, or a revoked one; a role that
  may not do this);
- 404: an id that names nothing (or nothing the signed-in user may see);
- 413: a body over the size limit, for an operation that takes one;
- 422: a request that parses but cannot be accepted.

All of them answer the one error shape, ``ErrorResponse``: never FastAPI's own 422 shape.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI

from service.api.schemas import ErrorResponse

REF = "#/components/schemas/{model}"
WHY: dict[int, str] = {
    400: "Malformed request: an unknown query parameter, or a body that cannot be parsed",
    401: "Not signed in, or the token is expired, revoked or its user disabled",
    403: "The signed-in user's role may not do this",
    404: "Nothing with this id (or nothing the signed-in user may see)",
    413: "The request body is over the size limit",
    422: "The request is well formed but cannot be accepted: the message says why",
}
METHODS = ("get", "put", "post", "delete", "patch")


def codes_of(operation: dict[str, Any]) -> list[int]:
    """The error status codes that follow from an operation's shape."""
    codes = [400, 404, 422]
    if operation.get("security"):
        codes += [401, 403]
    if "requestBody" in operation:
        codes.append(413)
    return sorted(codes)


def declare(schema: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Add the error answers of every operation under ``prefix`` to an OpenAPI document."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    if "ErrorResponse" not in components:
        shape = ErrorResponse.model_json_schema(ref_template=REF)
        components.update(shape.pop("$defs", {}))
        components["ErrorResponse"] = shape
    error = {"application/json": {"schema": {"$ref": REF.format(model="ErrorResponse")}}}
    for path, item in schema.get("paths", {}).items():
        if not path.startswith(prefix):
            continue
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for code in codes_of(operation):
                known = responses.get(str(code))
                # FastAPI's own 422 (HTTPValidationError) is not what the API answers.
                if known is None or "HTTPValidationError" in json.dumps(known):
                    responses[str(code)] = {"description": WHY[code], "content": error}
    text = json.dumps(schema.get("paths", {}))
    for unused in ("HTTPValidationError", "ValidationError"):
        if f'"{REF.format(model=unused)}"' not in text:
            components.pop(unused, None)
    return schema


def document_errors(app: FastAPI, prefix: str) -> None:
    """Make the app's OpenAPI document declare the error answers (see :func:`declare`)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        declared: dict[str, Any] | None = getattr(app.state, "declared_openapi", None)
        schema = build()
        if declared is not schema:  # built anew (FastAPI rebuilds when routes change)
            app.state.declared_openapi = declare(schema, prefix)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
