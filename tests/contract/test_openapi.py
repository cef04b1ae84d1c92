"""/openapi.json documents every route of SPEC §3 with the error replies it can give, each in the
envelope's schema; nothing documents FastAPI's 422 validation shape, since we answer 400."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

ROOT = "http://testserver"
API = "/api/v1"
# SPEC §3, route by route: the error statuses each can answer besides the 400/429/503 of every
# route (and the 413/415 of every route with a body).
ROUTES: dict[tuple[str, str], set[int]] = {
    ("post", "/users"): {409},
    ("get", "/users"): {401, 403},
    ("get", "/users/me"): {401},
    ("get", "/users/{user_id}"): {401, 404},
    ("patch", "/users/{user_id}"): {401, 403, 404, 409},
    ("delete", "/users/{user_id}"): {401, 403, 404},
    ("post", "/users/me/password"): {401},
    ("get", "/users/{user_id}/posts"): {404},
    ("post", "/auth/login"): {401},
    ("post", "/auth/refresh"): {401},
    ("post", "/auth/logout"): set(),
    ("post", "/auth/logout-all"): {401},
    ("get", "/users/me/sessions"): {401},
    ("delete", "/users/me/sessions/{session_id}"): {401, 404},
    ("get", "/posts"): set(),
    ("post", "/posts"): {401, 403, 422},
    ("get", "/posts/{post_id}"): {404},
    ("patch", "/posts/{post_id}"): {401, 403, 404, 422},
    ("delete", "/posts/{post_id}"): {401, 403, 404},
    ("get", "/tags"): set(),
    ("get", "/tags/{slug}"): {404},
    ("get", "/tags/{slug}/posts"): {404},
    ("patch", "/tags/{slug}"): {401, 403, 404, 409},
    ("delete", "/tags/{slug}"): {401, 403, 404},
}
SUCCESS = {("post", "/users"): "201", ("post", "/posts"): "201"}
EVERY_ROUTE = {400, 429, 503}
WITH_A_BODY = {413, 415}


@pytest.fixture
async def document(anon: httpx.AsyncClient) -> dict[str, Any]:
    reply = await anon.get(f"{ROOT}/openapi.json")
    assert reply.status_code == 200
    body: dict[str, Any] = reply.json()
    return body


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def route_problems(operation: dict[str, Any], method: str, path: str) -> list[str]:
    responses = operation["responses"]
    expected = EVERY_ROUTE | ROUTES[method, path]
    if "requestBody" in operation:
        expected |= WITH_A_BODY
    documented = {int(status) for status in responses if int(status) >= 400}
    problems = [f"{method} {path}: {s} undocumented" for s in sorted(expected - documented)]
    for status in sorted(documented):
        schema = responses[str(status)]["content"]["application/json"]["schema"]
        if schema != {"$ref": "#/components/schemas/ErrorEnvelope"}:
            problems.append(f"{method} {path}: {status} is not the envelope: {schema}")
    success = sorted(s for s in responses if s.startswith("2"))
    if method == "delete" or path in {"/auth/logout", "/auth/logout-all", "/users/me/password"}:
        wanted = ["204"]
    else:
        wanted = [SUCCESS.get((method, path), "200")]
    if success != wanted:
        problems.append(f"{method} {path}: success {success}, wanted {wanted}")
    return problems


async def test_every_route_documents_its_errors_in_the_envelope(
    document: dict[str, Any],
) -> None:
    problems: list[str] = []
    for method, path in sorted(ROUTES):
        operation = document["paths"].get(API + path, {}).get(method)
        if operation is None:
            problems.append(f"{method} {path}: not documented")
        else:
            problems.extend(route_problems(operation, method, path))
    assert problems == []


async def test_the_envelope_schema_is_documented(document: dict[str, Any]) -> None:
    envelope = document["components"]["schemas"]["ErrorEnvelope"]
    assert envelope["required"] == ["error"]
    error = resolve(document, envelope["properties"]["error"])
    assert set(error["required"]) == {"code", "message"}
    assert set(error["properties"]) == {"code", "message", "details"}


async def test_no_route_documents_the_framework_validation_shape(
    document: dict[str, Any],
) -> None:
    text = str(document)
    assert "HTTPValidationError" not in text
    assert "ValidationError'" not in text
    for path, item in document["paths"].items():
        for method, operation in item.items():
            unprocessable = operation.get("responses", {}).get("422")
            if unprocessable is not None:
                assert "UNPROCESSABLE_ENTITY" in unprocessable["description"], (method, path)
                assert (method, path.removeprefix(API)) in {
                    ("post", "/posts"),
                    ("patch", "/posts/{post_id}"),
                }


async def test_sort_and_page_parameters_are_documented(document: dict[str, Any]) -> None:
    parameters = {p["name"]: p for p in document["paths"][f"{API}/posts"]["get"]["parameters"]}
    assert {"page", "limit", "sort", "tag", "author", "q", "published"} <= set(parameters)
    limit = parameters["limit"]["schema"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 100, 20)
    assert "published_at" in parameters["sort"]["description"]


async def test_operations_routes_are_documented(document: dict[str, Any]) -> None:
    assert {"/healthz", "/readyz", "/metrics"} <= set(document["paths"])
