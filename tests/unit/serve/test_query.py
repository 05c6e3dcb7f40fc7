"""Query parameters as one model: validation as FastAPI's, documented in the OpenAPI schema."""

from __future__ import annotations

from typing import Literal

import pytest
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from serve.query import DirectRoute, direct_get, openapi_query, read_query
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


class Answer(BaseModel):
    name: str


def test_a_direct_route_serves_validates_and_is_documented() -> None:
    app = FastAPI()
    router = APIRouter()

    @direct_get(router, "/direct", response_model=Answer, openapi_extra=openapi_query(Ask))
    async def direct(request: Request) -> Response:
        return JSONResponse({"name": read_query(request, Ask).name})

    app.include_router(router)
    client = TestClient(app)
    route = next(r for r in router.routes if r.path == "/direct")
    assert isinstance(route, DirectRoute) and route.get_route_handler() is direct
    assert client.get("/direct", params={"name": "ann"}).json() == {"name": "ann"}
    refused = client.get("/direct", params={"name": "ann", "size": "0"})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["query", "size"]
    operation = client.get("/openapi.json").json()["paths"]["/direct"]["get"]
    assert [p["name"] for p in operation["parameters"]] == ["name", "size", "colour"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Answer"
    }


def test_a_direct_route_takes_the_request_alone() -> None:
    async def takes_more(request: Request, other: int) -> Response:
        return Response()

    with pytest.raises(TypeError, match="takes_more: a DirectRoute endpoint takes"):
        direct_get(APIRouter(), "/x")(takes_more)


def test_a_direct_route_under_a_dependency_is_refused() -> None:
    app, router = FastAPI(), APIRouter()

    @direct_get(router, "/guarded")
    async def guarded(request: Request) -> Response:
        return Response()

    app.include_router(router, dependencies=[Depends(lambda: None)])
    with pytest.raises(TypeError, match="/guarded: a DirectRoute runs no dependencies"):
        TestClient(app).get("/guarded")


def test_the_hot_service_routes_are_direct() -> None:
    from serve.routes.home import router

    kinds = {route.path: type(route) for route in router.routes}
    assert kinds["/v1/home"] is kinds["/v1/artwork"] is DirectRoute
    assert kinds["/v1/viewers"] is not DirectRoute  # it takes a dependency
