"""/openapi.json documents every route of docs/api.md with the error replies it can give, each in
the envelope's schema; nothing documents FastAPI's 422 validation shape, since we answer 400. It is
written for client generators: stable operation ids, bearer security per route (checked against
what the server does), typed pages, request fields that take null only where the server does.
(test_response_schemas.py checks real replies against it; test_generated_client.py uses it.)"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate

from tests.conftest import Person, assert_error

ROOT = "http://testserver"
API = "/api/v1"
# docs/api.md, route by route: the error statuses each can answer besides the 400/429/503 of every
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
                    ("post", "/users"),  # IDEMPOTENCY_KEY_REUSED
                }


async def test_sort_and_page_parameters_are_documented(document: dict[str, Any]) -> None:
    parameters = {p["name"]: p for p in document["paths"][f"{API}/posts"]["get"]["parameters"]}
    assert {"page", "limit", "sort", "tag", "author", "q", "published"} <= set(parameters)
    limit = parameters["limit"]["schema"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 100, 20)
    assert "published_at" in parameters["sort"]["description"]


async def test_operations_routes_are_documented(document: dict[str, Any]) -> None:
    assert {"/healthz", "/readyz", "/metrics"} <= set(document["paths"])


# Stable names for generated clients (`list_posts.sync(...)`, `listPosts(...)`): renaming one
# breaks every client built from the document, so the whole map is pinned here.
OPERATION_IDS = {
    ("get", "/api/v1/posts"): "listPosts",
    ("post", "/api/v1/posts"): "createPost",
    ("get", "/api/v1/posts/{post_id}"): "getPost",
    ("patch", "/api/v1/posts/{post_id}"): "updatePost",
    ("delete", "/api/v1/posts/{post_id}"): "deletePost",
    ("get", "/api/v1/users/{user_id}/posts"): "listUserPosts",
    ("post", "/api/v1/users"): "createUser",
    ("get", "/api/v1/users"): "listUsers",
    ("get", "/api/v1/users/me"): "getCurrentUser",
    ("post", "/api/v1/users/me/password"): "changePassword",
    ("get", "/api/v1/users/me/sessions"): "listSessions",
    ("delete", "/api/v1/users/me/sessions/{session_id}"): "deleteSession",
    ("get", "/api/v1/users/{user_id}"): "getUser",
    ("patch", "/api/v1/users/{user_id}"): "updateUser",
    ("delete", "/api/v1/users/{user_id}"): "deleteUser",
    ("post", "/api/v1/auth/login"): "login",
    ("post", "/api/v1/auth/refresh"): "refreshToken",
    ("post", "/api/v1/auth/logout"): "logout",
    ("post", "/api/v1/auth/logout-all"): "logoutAll",
    ("get", "/api/v1/tags"): "listTags",
    ("get", "/api/v1/tags/{slug}"): "getTag",
    ("get", "/api/v1/tags/{slug}/posts"): "listTagPosts",
    ("patch", "/api/v1/tags/{slug}"): "updateTag",
    ("delete", "/api/v1/tags/{slug}"): "deleteTag",
    ("post", "/api/v1/webhooks"): "createWebhook",
    ("get", "/api/v1/webhooks"): "listWebhooks",
    ("get", "/api/v1/webhooks/{webhook_id}"): "getWebhook",
    ("patch", "/api/v1/webhooks/{webhook_id}"): "updateWebhook",
    ("delete", "/api/v1/webhooks/{webhook_id}"): "deleteWebhook",
    ("post", "/api/v1/webhooks/{webhook_id}/rotate-secret"): "rotateWebhookSecret",
    ("get", "/api/v1/webhooks/{webhook_id}/deliveries"): "listWebhookDeliveries",
    (
        "post",
        "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry",
    ): "retryWebhookDelivery",
    ("get", "/healthz"): "getHealth",
    ("get", "/readyz"): "getReadiness",
    ("get", "/metrics"): "getMetrics",
    ("post", "/api/v1/auth/email-verification"): "requestEmailVerification",
    ("post", "/api/v1/auth/verify-email"): "verifyEmail",
    ("post", "/api/v1/auth/password-reset"): "requestPasswordReset",
    ("post", "/api/v1/auth/password-reset/confirm"): "resetPassword",
    ("post", "/api/v1/auth/email-change/confirm"): "confirmEmailChange",
    ("post", "/api/v1/users/me/email"): "requestEmailChange",
}
# Who must send a bearer token (docs/api.md "authenticated", "self", posts:write...), who may.
NEEDS_A_TOKEN = {
    ("post", "/webhooks"),
    ("get", "/webhooks"),
    ("get", "/webhooks/{webhook_id}"),
    ("patch", "/webhooks/{webhook_id}"),
    ("delete", "/webhooks/{webhook_id}"),
    ("post", "/webhooks/{webhook_id}/rotate-secret"),
    ("get", "/webhooks/{webhook_id}/deliveries"),
    ("post", "/webhooks/{webhook_id}/deliveries/{delivery_id}/retry"),
    ("post", "/posts"),
    ("patch", "/posts/{post_id}"),
    ("delete", "/posts/{post_id}"),
    ("get", "/users"),
    ("get", "/users/me"),
    ("post", "/users/me/password"),
    ("get", "/users/me/sessions"),
    ("delete", "/users/me/sessions/{session_id}"),
    ("get", "/users/{user_id}"),
    ("patch", "/users/{user_id}"),
    ("delete", "/users/{user_id}"),
    ("post", "/auth/logout-all"),
    ("post", "/auth/email-verification"),
    ("post", "/users/me/email"),
    ("patch", "/tags/{slug}"),
    ("delete", "/tags/{slug}"),
}
TAKES_A_TOKEN = {
    ("get", "/posts"),
    ("get", "/posts/{post_id}"),
    ("get", "/users/{user_id}/posts"),
    ("get", "/tags"),
    ("get", "/tags/{slug}"),
    ("get", "/tags/{slug}/posts"),
}
BEARER = [{"bearerAuth": []}]
# The only input fields a client may set to null: clearing an optional profile field, or a
# webhook's description.
NULLABLE_INPUTS = {
    "ProfileInput.avatarUrl",
    "ProfileInput.bio",
    "ProfileChanges.avatarUrl",
    "ProfileChanges.bio",
    "UpdateWebhookRequest.description",
}


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


async def test_operation_ids_are_short_unique_and_stable(document: dict[str, Any]) -> None:
    found = {key: op["operationId"] for key, op in operations(document).items()}
    assert found == OPERATION_IDS
    assert len(set(found.values())) == len(found)
    assert all(re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)*", name) for name in found.values())


async def test_bearer_security_is_declared_route_by_route(document: dict[str, Any]) -> None:
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    assert "security" not in document  # no global default: each route says what it needs
    for (method, path), operation in operations(document).items():
        route = (method, path.removeprefix(API))
        if route in NEEDS_A_TOKEN:
            assert operation.get("security") == BEARER, route
        elif route in TAKES_A_TOKEN:
            assert operation.get("security") == [{}, *BEARER], route
        else:
            assert "security" not in operation, route


async def test_routes_documented_as_needing_a_token_refuse_a_call_without_one(
    document: dict[str, Any], anon: httpx.AsyncClient
) -> None:
    """The document's `security` is what the server does, not only what it says."""
    for (method, path), operation in operations(document).items():
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        reply = await anon.request(method.upper(), f"{ROOT}{concrete}", json={})
        if operation.get("security") == BEARER:
            assert reply.status_code == 401, (method, path, reply.text)
        else:
            assert reply.status_code != 401, (method, path, reply.text)
        if {} in operation.get("security", []):
            bad = await anon.request(
                method.upper(), f"{ROOT}{concrete}", headers={"Authorization": "Bearer x.y.z"}
            )
            assert bad.status_code == 401, (method, path, bad.text)


def nullable_properties(document: dict[str, Any], name: str, seen: set[str]) -> set[str]:
    if name in seen:
        return set()
    seen.add(name)
    found = set()
    for field, schema in document["components"]["schemas"][name].get("properties", {}).items():
        options = schema.get("anyOf", [schema])
        if {"type": "null"} in options or schema.get("type") == "null":
            found.add(f"{name}.{field}")
        for text in re.findall(r"#/components/schemas/(\w+)", str(schema)):
            found |= nullable_properties(document, text, seen)
    return found


async def test_request_bodies_take_null_only_where_the_server_does(
    document: dict[str, Any], author: Person
) -> None:
    bodies: set[str] = set()
    seen: set[str] = set()
    for operation in operations(document).values():
        schema = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if schema is not None:
            name = schema["schema"]["$ref"].rsplit("/", 1)[1]
            bodies |= nullable_properties(document, name, seen)
    assert bodies == NULLABLE_INPUTS
    update = document["components"]["schemas"]["UpdatePostRequest"]["properties"]
    assert update["title"]["type"] == "string"
    created = await author.post("/posts", json={"title": "T", "content": "C"})
    post_id = created.json()["id"]
    assert_error(
        await author.patch(f"/posts/{post_id}", json={"title": None}), 400, "VALIDATION_ERROR"
    )
    cleared = await author.patch(f"/users/{author.id}", json={"profile": {"bio": None}})
    assert cleared.status_code == 200, cleared.text


async def test_lists_document_a_typed_page_of_their_items(document: dict[str, Any]) -> None:
    lists = {
        "/posts": "Post",
        "/users/{user_id}/posts": "Post",
        "/tags/{slug}/posts": "Post",
        "/tags": "Tag",
        "/users": "User",
    }
    for path, item in lists.items():
        reply = document["paths"][API + path]["get"]["responses"]["200"]
        page = resolve(document, reply["content"]["application/json"]["schema"])
        assert page["title"] == f"{item}Page"
        assert set(page["required"]) == {"data", "pagination"}
        assert page["properties"]["data"]["items"] == {"$ref": f"#/components/schemas/{item}"}
        pagination = resolve(document, page["properties"]["pagination"])
        assert set(pagination["required"]) == {"page", "limit", "total", "totalPages"}
    for name in ("Post", "User", "Tag", "TokenPair", "Session"):
        assert document["components"]["schemas"][name]["title"] == name
    assert not [name for name in document["components"]["schemas"] if name.endswith("Out")]


async def test_creations_document_their_location(document: dict[str, Any]) -> None:
    for path in ("/posts", "/users"):
        created = document["paths"][API + path]["post"]["responses"]["201"]
        assert "Location" in created["headers"], path
        assert created["content"]["application/json"]["schema"]["$ref"].endswith(
            "Post" if path == "/posts" else "User"
        )


async def test_readiness_documents_its_503(document: dict[str, Any]) -> None:
    responses = document["paths"]["/readyz"]["get"]["responses"]
    assert responses["503"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorEnvelope"
    }
    assert "Retry-After" in responses["503"]["headers"]
    assert responses["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Readiness"
    }


async def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"].startswith("3.1")


async def test_api_reads_document_revalidation_and_answer_it(
    document: dict[str, Any], anon: httpx.AsyncClient
) -> None:
    """Every GET under the API declares `If-None-Match`, the ETag of its 200 and the 304 it
    answers, so generated clients (and the fuzzer) send the header; and a read does answer so."""
    reads = [path for path, item in document["paths"].items() if "get" in item]
    api_reads = [path for path in reads if path.startswith(API + "/")]
    assert api_reads
    for path in api_reads:
        operation = document["paths"][path]["get"]
        headers = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
        assert "If-None-Match" in headers, path
        assert "ETag" in operation["responses"]["200"]["headers"], path
        assert "content" not in operation["responses"]["304"], path
    for path in reads:
        if not path.startswith(API + "/"):
            assert "304" not in document["paths"][path]["get"]["responses"], path
    first = await anon.get(f"{ROOT}{API}/tags")
    again = await anon.get(f"{ROOT}{API}/tags", headers={"If-None-Match": first.headers["ETag"]})
    assert (first.status_code, again.status_code, again.content) == (200, 304, b"")
