"""Query parameters as one model: validation as FastAPI's, documented in the OpenAPI schema."""

from __future__ import annotations

from typing import Literal

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from serve.query import openapi_query, read_query
from serve.routes.home import ArtworkQuery, HomeQuery


class Ask(BaseModel):
    name: str = Field(min_length=1, description="who asks")
    size: int | None = Field(None, ge=1, le=9)
    colour: Literal["red", "blue"] = "red"


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()

    @app.get("/ask", openapi_extra=openapi_query(Ask))
    async def ask(request: Request) -> dict:
        return read_query(request, Ask).model_dump()

    return TestClient(app)


def test_values_are_validated_and_converted_and_unknown_parameters_ignored(client):
    response = client.get("/ask", params={"name": "ann", "size": "3", "other": "x"})
    assert response.json() == {"name": "ann", "size": 3, "colour": "red"}


@pytest.mark.parametrize(
    ("params", "loc"),
    [({}, ["query", "name"]), ({"name": "a", "size": "10"}, ["query", "size"]),
     ({"name": "a", "colour": "green"}, ["query", "colour"])],
)  # fmt: skip
def test_a_bad_value_is_a_422_naming_the_parameter(client, params, loc):
    response = client.get("/ask", params=params)
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [loc]


def test_the_schema_lists_each_field_as_a_query_parameter(client):
    parameters = client.get("/openapi.json").json()["paths"]["/ask"]["get"]["parameters"]
    assert [(p["name"], p["in"], p["required"]) for p in parameters] == [
        ("name", "query", True), ("size", "query", False), ("colour", "query", False),
    ]  # fmt: skip
    assert parameters[0]["description"] == "who asks"
    assert parameters[1]["schema"]["anyOf"][0] == {"maximum": 9, "minimum": 1, "type": "integer"}
    assert parameters[2]["schema"]["enum"] == ["red", "blue"]


def test_the_service_routes_document_every_parameter_they_read():
    for model in (HomeQuery, ArtworkQuery):
        documented = [p["name"] for p in openapi_query(model)["parameters"]]
        assert documented == list(model.model_fields)
    assert "title_id" in ArtworkQuery.model_fields and "genres" in HomeQuery.model_fields


def test_a_field_that_needs_schema_definitions_is_refused():
    class Nested(BaseModel):
        inner: Ask

    with pytest.raises(TypeError, match="Nested"):
        openapi_query(Nested)
