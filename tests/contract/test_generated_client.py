"""A Python client generated from a running server's /openapi.json with openapi-python-client
drives the README's walk-through: typed models in and out, bearer tokens, documented errors.

The generator runs offline: no post hooks (its default runs ruff over the output, which adds
nothing here), and with warnings as failures, so a schema it cannot type is a failing test."""

from __future__ import annotations

import importlib
import subprocess
import sys
import typing
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from pressroom.db.migrate import migrate
from tests.conftest import PASSWORD
from tests.operations.processes import Server, running_server

GENERATOR = str(Path(sys.executable).with_name("openapi-python-client"))
PACKAGE = "pressroom_generated_client"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("generated-client-server")
    database_url = f"sqlite:///{directory / 'walk.db'}"
    migrate(database_url)
    with running_server(directory, DATABASE_URL=database_url) as server:
        yield server


@pytest.fixture(scope="module")
def generated(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The generated package, imported; its modules are forgotten afterwards."""
    directory = tmp_path_factory.mktemp("generated-client")
    document = directory / "openapi.json"
    document.write_bytes(httpx.get(f"{server.url}/openapi.json").content)
    config = directory / "config.yaml"
    config.write_text("post_hooks: []\n")
    result = subprocess.run(
        [
            GENERATOR,
            "generate",
            "--path",
            str(document),
            "--config",
            str(config),
            "--meta",
            "none",
            "--output-path",
            str(directory / PACKAGE),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(directory))
    try:
        yield Generated(importlib.import_module(PACKAGE))
    finally:
        sys.path.remove(str(directory))
        for name in [n for n in sys.modules if n.split(".")[0] == PACKAGE]:
            del sys.modules[name]


class Generated:
    """`api.posts.list_posts`, `models.Post`, ... of the generated package."""

    def __init__(self, package: ModuleType) -> None:
        self.package = package
        self.models = importlib.import_module(f"{PACKAGE}.models")

    def api(self, tag: str, operation: str) -> Any:
        return importlib.import_module(f"{PACKAGE}.api.{tag}.{operation}")

    def client(self, base_url: str, token: str | None = None) -> Any:
        if token is None:
            return self.package.Client(base_url=base_url, raise_on_unexpected_status=True)
        return self.package.AuthenticatedClient(
            base_url=base_url, token=token, raise_on_unexpected_status=True
        )


def test_the_readme_walk_through_with_a_generated_client(
    generated: Generated, server: Server
) -> None:
    api, models, base = generated.api, generated.models, server.url
    anonymous = generated.client(base)

    # 1. Sign up: 201 and the new account; a second time, the documented 409 envelope.
    sign_up = models.CreateUserRequest(
        email="ann@example.com",
        password=PASSWORD,
        profile=models.ProfileInput(first_name="Ann", last_name="Example"),
    )
    created = api("users", "create_user").sync_detailed(client=anonymous, body=sign_up)
    assert created.status_code == 201
    assert isinstance(created.parsed, models.User)
    assert created.parsed.email == "ann@example.com"
    again = api("users", "create_user").sync(client=anonymous, body=sign_up)
    assert isinstance(again, models.ErrorEnvelope)
    assert again.error.code == "CONFLICT"

    # 2. Log in.
    login = models.LoginRequest(email="ann@example.com", password=PASSWORD)
    pair = api("auth", "login").sync(client=anonymous, body=login)
    assert isinstance(pair, models.TokenPair)
    assert pair.token_type == "Bearer"
    ann = generated.client(base, pair.access_token)

    # 3. A published post with a tag.
    post = api("posts", "create_post").sync(
        client=ann,
        body=models.CreatePostRequest(
            title="Hello", content="My first post", published=True, tags=["News"]
        ),
    )
    assert isinstance(post, models.Post)
    assert [(t.name, t.slug) for t in post.tags] == [("News", "news")]
    assert post.published_at is not None

    # Lists come back as typed pages of Post, for a reader with or without a token.
    for reader in (ann, anonymous):
        page = api("posts", "list_posts").sync(client=reader, tag="news")
        assert isinstance(page, models.PostPage)
        assert [type(p) for p in page.data] == [models.Post]
        assert page.data[0].author.profile.first_name == "Ann"
        assert (page.pagination.total, page.pagination.total_pages) == (1, 1)
    tags = api("tags", "list_tags").sync(client=anonymous)
    assert [(t.slug, t.post_count) for t in tags.data] == [("news", 1)]

    # A partial update sends only what was given; a typed client cannot send a null title.
    changed = api("posts", "update_post").sync(
        client=ann, post_id=post.id, body=models.UpdatePostRequest(title="Hello again")
    )
    assert (changed.title, changed.content) == ("Hello again", "My first post")
    hints = typing.get_type_hints(models.UpdatePostRequest)
    assert type(None) not in typing.get_args(hints["title"])

    # 4. Refresh: a new pair, and the new access token works.
    refreshed = api("auth", "refresh_token").sync(
        client=anonymous, body=models.RefreshRequest(refresh_token=pair.refresh_token)
    )
    assert isinstance(refreshed, models.TokenPair)
    me = api("users", "get_current_user").sync(
        client=generated.client(base, refreshed.access_token)
    )
    assert isinstance(me, models.User)
    assert me.email == "ann@example.com"

    # 5. Log out: 204, then the session's access token gets the documented 401 envelope.
    out = api("auth", "logout").sync_detailed(
        client=anonymous, body=models.RefreshRequest(refresh_token=refreshed.refresh_token)
    )
    assert out.status_code == 204
    refused = api("users", "get_current_user").sync_detailed(
        client=generated.client(base, refreshed.access_token)
    )
    assert refused.status_code == 401
    assert isinstance(refused.parsed, models.ErrorEnvelope)
    assert refused.parsed.error.code == "AUTHENTICATION_ERROR"

    ready = api("operations", "get_readiness").sync(client=anonymous)
    assert isinstance(ready, models.Readiness)
    assert ready.checks.additional_properties == {"database": "ok"}
