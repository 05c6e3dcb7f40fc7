"""Query parameters read into one pydantic model per route, documented in the OpenAPI schema.

FastAPI's per-parameter machinery (one dependency field per query parameter, each annotation
inspected again on every request) cost the hot routes more than their own work did, and even
one dependency holding the whole model cost ~10 % of ``/v1/artwork``'s time in the server.
Here a route reads its parameters itself (``read_query``): one frozen model, validated in one
pydantic call from the query string; ``openapi_extra`` lists them as query parameters, so
the docs and schema-driven clients and fuzzers see exactly what the model accepts. Errors are
FastAPI's ``RequestValidationError`` (a 422 naming the parameter), as for any other route.
Unknown parameters are ignored.
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def read_query(request: Request, model: type[M]) -> M:
    """``request``'s query parameters as one ``model``; a ``RequestValidationError`` (422,
    naming each bad parameter) when they do not fit it."""
    given = request.query_params
    try:
        return model.model_validate({n: given[n] for n in model.model_fields if n in given})
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("query", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None


def openapi_query(model: type[BaseModel]) -> dict[str, Any]:
    """The ``openapi_extra`` that documents ``model``'s fields as query parameters."""
    schema = model.model_json_schema()
    if "$defs" in schema:
        raise TypeError(f"{model.__name__}: query fields must not need schema definitions")
    required = set(schema.get("required", ()))
    parameters = []
    for name, prop in schema["properties"].items():
        prop = {k: v for k, v in prop.items() if k not in ("title", "description")}
        parameter = {"name": name, "in": "query", "required": name in required, "schema": prop}
        description = model.model_fields[name].description
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return {"parameters": parameters}
