"""Every reply the API sends matches the schema /openapi.json documents for it.

Resources are documented and serialised from one definition (kit/output.py), but some bodies
are still shaped by hand (errors, sessions, token pairs, the operations routes), and a shape's
serialiser can be told to leave fields out (a user's private fields). This suite drives every
route through successes and refusals, records each reply, and validates its body against the
schema of that route and status, with every documented object closed (`additionalProperties:
false`), so a field a reply adds, drops or types differently fails here."""

from __future__ import annotations

import copy
import email
import email.policy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from pressroom.auth.permissions import Role
from pressroom.jobs.worker import Worker
from pressroom.mail.sender import DirectorySender
from pressroom.services import Services
from tests.conftest import PASSWORD, People, Person
from tests.webhooks.receiver import Receiver, running

ROOT = "http://testserver"


def closed(node: Any) -> Any:
    """The schema with every object that lists its properties refusing any other."""
    if isinstance(node, dict):
        node = {k: closed(v) for k, v in node.items()}
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        return node
    if isinstance(node, list):
        return [closed(v) for v in node]
    return node


@dataclass
class Recorder:
    document: dict[str, Any]
    replies: list[tuple[str, str, httpx.Response]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.components = closed(copy.deepcopy(self.document["components"]))
        templates = [
            (path, method)
            for path, item in self.document["paths"].items()
            for method in item
            if method in {"get", "post", "patch", "delete", "put"}
        ]
        # Literal segments before parameters: /users/me is not /users/{user_id}.
        templates.sort(key=lambda t: (t[0].count("{"), t[0]))
        self.templates = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), path, method)
            for path, method in templates
        ]

    async def record(self, response: httpx.Response) -> None:
        await response.aread()
        path, method = response.request.url.path, response.request.method.lower()
        for pattern, template, documented_method in self.templates:
            if documented_method == method and pattern.match(path):
                self.replies.append((method, template, response))
                return
        assert path == "/openapi.json", f"{method} {path} is not documented"

    def problems(self) -> list[str]:
        found = []
        for method, template, response in self.replies:
            operation = self.document["paths"][template][method]
            status = str(response.status_code)
            described = operation["responses"].get(status)
            label = f"{method.upper()} {template} {status}"
            if described is None:
                found.append(f"{label}: status not documented ({response.text[:200]})")
                continue
            content = described.get("content", {})
            if status == "204" or not content:
                if response.content:
                    found.append(f"{label}: a body where none is documented")
                continue
            schema = content["application/json"]["schema"]
            validator = Draft202012Validator(
                {**schema, "components": self.components}, format_checker=FormatChecker()
            )
            for error in validator.iter_errors(response.json()):
                found.append(f"{label}: {list(error.absolute_path)}: {error.message[:200]}")
        return found

    def covered(self) -> set[tuple[str, str]]:
        return {(m, t) for m, t, r in self.replies if r.status_code < 300}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"webhook_allow_private_targets": True}  # the webhook receiver runs on loopback


@pytest.fixture
async def recorder(client: httpx.AsyncClient) -> Recorder:
    reply = await client.get(f"{ROOT}/openapi.json")
    recorder = Recorder(reply.json())
    client.event_hooks["response"].append(recorder.record)
    return recorder


async def api_routes_in_use(anon: httpx.AsyncClient, people: People, services: Services) -> None:
    """Each route as a user would call it: successes with real data, then refusals."""
    ann = await people.make(first_name="Ann", last_name="Author")
    bob = await people.make(first_name="Bob", last_name="Reader")
    admin = await people.make(Role.ADMIN)
    await sign_up_and_sign_in(anon, people)

    published = await ann.post(
        "/posts",
        json={"title": "Hello", "content": "Body", "published": True, "tags": ["News", "Tech"]},
    )
    draft = await ann.post("/posts", json={"title": "Draft", "content": ""})
    post_id, draft_id = published.json()["id"], draft.json()["id"]
    await ann.patch(f"/posts/{post_id}", json={"title": "Hello again", "tags": ["News"]})
    await ann.patch(f"/posts/{draft_id}", json={"published": True})  # empty: 422
    await bob.patch(f"/posts/{post_id}", json={"title": "Mine now"})  # 403
    await anon.post("/posts", json={"title": "x", "content": "y"})  # 401

    for reader in (anon, ann, bob, admin):
        await reader.get("/posts")
        await reader.get(f"/posts/{post_id}")
        await reader.get("/tags")
        await reader.get("/tags/news")
        await reader.get("/tags/news/posts")
        await reader.get(f"/users/{ann.id}/posts")
    await ann.get("/posts", params={"published": "false"})
    await admin.get("/posts", params={"published": "false", "sort": "-created_at", "limit": 1})
    await anon.get(f"/posts/{draft_id}")  # 404
    await anon.get("/posts", params={"limit": 0})  # 400 with details
    await anon.get("/posts", headers={"Authorization": "Bearer not-a-token"})  # 401

    for viewer in (ann, admin):
        await viewer.get("/users")
        await viewer.get(f"/users/{bob.id}")
    await ann.get("/users", params={"sort": "email"})  # 403 for a plain user
    await ann.get("/users/me")
    await ann.patch(
        f"/users/{ann.id}",
        json={
            "profile": {"avatarUrl": "https://img.example/a.png", "bio": None},
            "settings": {"emailNotifications": False},
        },
    )
    await admin.patch(f"/users/{bob.id}", json={"roles": ["user", "moderator"]})
    await bob.patch(f"/users/{ann.id}", json={"profile": {"firstName": "X"}})  # 403
    await anon.get("/users/me")  # 401

    await admin.patch("/tags/tech", json={"name": "Technology"})
    await ann.delete("/tags/news")  # 403
    await admin.delete("/tags/tech")
    await anon.get("/tags/tech")  # 404

    await ann.delete(f"/posts/{draft_id}")
    await account_routes(anon, people, ann)
    await webhook_routes(anon, admin, ann, services)
    await bob.delete(f"/users/{bob.id}")


class MailNowhere:
    async def send(self, message: email.message.EmailMessage) -> None:
        return None


async def webhook_routes(
    anon: httpx.AsyncClient, admin: Person, ann: Person, services: Services
) -> None:
    with running(Receiver()) as receiver:
        made = await admin.post(
            "/webhooks",
            json={"url": receiver.url, "events": ["post.created"], "description": "Builds"},
        )
        hook = f"/webhooks/{made.json()['id']}"
        await admin.post("/webhooks", json={"url": "ftp://x", "events": ["nope"]})  # 400
        await admin.post("/posts", json={"title": "T", "content": "C"})
        # The background worker makes the delivery (mail queued by sign-ups goes nowhere).
        await Worker(services, sender=MailNowhere()).drain()
        await admin.get("/webhooks")
        await admin.get(hook)
        await admin.patch(hook, json={"description": None, "enabled": False})
        await admin.patch(hook, json={"enabled": True})
        await admin.post(f"{hook}/rotate-secret")
        log = await admin.get(f"{hook}/deliveries", params={"status": "succeeded"})
        retry = f"{hook}/deliveries/{log.json()['data'][0]['id']}/retry"
        await admin.post(retry)
        await admin.post(retry)  # 409: already pending
        await ann.get("/webhooks")  # 401: ann signed out everywhere above
        await anon.get(hook)  # 401
        await admin.delete(hook)
        await admin.get(hook)  # 404


async def sign_up_and_sign_in(anon: httpx.AsyncClient, people: People) -> None:
    body = {
        "email": "new@example.com",
        "password": PASSWORD,
        "profile": {"firstName": "New", "lastName": "Person"},
    }
    await anon.post("/users", json=body)
    await anon.post("/users", json=body)  # 409
    await anon.post("/users", json={**body, "email": "not-an-email"})  # 400
    await anon.post("/users", content=b"x", headers={"Content-Type": "text/plain"})  # 415
    await anon.post("/auth/login", json={"email": "new@example.com", "password": "wrong"})  # 401


async def account_routes(anon: httpx.AsyncClient, people: People, ann: Person) -> None:
    second = await people.sign_in(ann.id, ann.email, ann.password)
    sessions = (await ann.get("/users/me/sessions")).json()["data"]
    other = next(s["id"] for s in sessions if not s["current"])
    await ann.delete(f"/users/me/sessions/{other}")
    await ann.delete(f"/users/me/sessions/{other}")  # 404
    await ann.post(
        "/users/me/password", json={"currentPassword": "wrong", "newPassword": "Another-Pass-7"}
    )  # 400
    await ann.post(
        "/users/me/password", json={"currentPassword": PASSWORD, "newPassword": "Another-Pass-7"}
    )
    refreshed = await anon.post("/auth/refresh", json={"refreshToken": ann.refresh_token})
    await anon.post("/auth/refresh", json={"refreshToken": "nope"})  # 401
    await anon.post("/auth/logout", json={"refreshToken": refreshed.json()["refreshToken"]})
    await second.post("/auth/logout-all")  # ended with the password change: 401
    third = await people.sign_in(ann.id, ann.email, "Another-Pass-7")
    await third.post("/auth/logout-all")


def newest_token(mail_dir: Path) -> str:
    """The token of the last mail the worker wrote that carries one (files are named by job)."""
    by_job = sorted(
        mail_dir.glob("*.eml"), key=lambda path: int(re.findall(r"job-(\d+)@", path.name)[0])
    )
    for path in reversed(by_job):
        mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = mail.get_body(preferencelist=("plain",))
        assert body is not None
        found = re.search(r"token=([A-Za-z0-9_-]+)", body.get_content())  # type: ignore[attr-defined]
        if found is not None:
            return found.group(1)
    raise AssertionError("no mail with a token")


async def email_routes(
    anon: httpx.AsyncClient, people: People, services: Services, mail_dir: Path
) -> None:
    """Accounts by email, with the tokens of mails the worker wrote as `.eml` files."""
    worker = Worker(services, sender=DirectorySender(mail_dir))

    async def token_of_newest_mail() -> str:
        await worker.drain()
        return newest_token(mail_dir)

    cat = await people.make(email="cat@example.com")
    await cat.post("/auth/email-verification")
    await anon.post("/auth/verify-email", json={"token": await token_of_newest_mail()})
    await anon.post("/auth/verify-email", json={"token": "used-or-not"})  # 400
    await cat.post("/auth/email-verification")  # 409
    await anon.post("/auth/email-verification")  # 401
    await cat.post(
        "/users/me/email", json={"newEmail": "kit@example.com", "currentPassword": PASSWORD}
    )
    change = await token_of_newest_mail()
    await cat.post("/users/me/email", json={"newEmail": "x@example.com", "currentPassword": "no"})
    await anon.post("/auth/email-change/confirm", json={"token": change})
    await anon.post("/auth/email-change/confirm", json={"token": change})  # 400
    await anon.post("/auth/password-reset", json={"email": "kit@example.com"})
    reset = await token_of_newest_mail()
    await anon.post("/auth/password-reset/confirm", json={"token": reset, "newPassword": "weak"})
    await anon.post(
        "/auth/password-reset/confirm", json={"token": reset, "newPassword": "Another-Pass-8"}
    )


async def test_every_reply_matches_its_documented_schema(
    recorder: Recorder,
    anon: httpx.AsyncClient,
    people: People,
    services: Services,
    tmp_path: Path,
) -> None:
    await api_routes_in_use(anon, people, services)
    await email_routes(anon, people, services, tmp_path)
    await anon.get(f"{ROOT}/healthz")
    await anon.get(f"{ROOT}/readyz")
    assert recorder.problems() == []
    documented = {(m, t) for _, t, m in recorder.templates} - {("get", "/metrics")}
    assert documented - recorder.covered() == set()
    statuses = {r.status_code for _, _, r in recorder.replies}
    assert {200, 201, 204, 400, 401, 403, 404, 409, 415, 422} <= statuses


async def test_a_field_the_document_lacks_is_caught(recorder: Recorder, author: Person) -> None:
    """The check itself can fail: a reply with one undocumented field is reported."""
    reply = await author.get("/users/me")
    reply._content = reply.content[:-1] + b', "passwordHash": "x"}'
    assert any("passwordHash" in p for p in recorder.problems())
