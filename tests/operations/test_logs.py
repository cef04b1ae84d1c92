"""Logs: JSON lines, one per request and per security event, never a secret (docs/api.md)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from pressroom.kit.observability import configure_logging, get_logger
from tests.operations.processes import PRESSROOM, running_server, server_env

USER_PASSWORD = "Secret-Horse-4711"
WRONG_PASSWORD = "Guessed-Horse-0815"
ADMIN_PASSWORD = "Admin-Horse-9001"


def json_lines(text: str) -> list[dict[str, Any]]:
    lines = [line for line in text.splitlines() if line.strip()]
    return [json.loads(line) for line in lines]


def test_a_run_with_sign_up_login_refresh_and_failures_logs_no_secret(tmp_path: Path) -> None:
    settings = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'logs.db'}",
        # Zero grace: presenting a rotated refresh token again is reuse at once.
        "REFRESH_REUSE_GRACE_SECONDS": "0",
        "RATE_LIMITS_ENABLED": "true",
    }
    env = server_env(**settings)
    subprocess.run([PRESSROOM, "migrate"], env=env, check=True, capture_output=True, timeout=60)
    admin_run = subprocess.run(
        [
            PRESSROOM,
            *("users", "create", "--email", "admin@example.com"),
            *("--password", ADMIN_PASSWORD, "--role", "admin"),
        ],
        env=env,
        capture_output=True,
        timeout=60,
        text=True,
    )
    assert admin_run.returncode == 0, admin_run.stdout + admin_run.stderr
    secrets = [USER_PASSWORD, WRONG_PASSWORD, ADMIN_PASSWORD]

    with running_server(tmp_path, **settings) as server:
        api = server.api
        created = httpx.post(
            f"{api}/users",
            json={
                "email": "writer@example.com",
                "password": USER_PASSWORD,
                "profile": {"firstName": "Wri", "lastName": "Ter"},
            },
        )
        assert created.status_code == 201
        user_id = created.json()["id"]
        login = httpx.post(
            f"{api}/auth/login", json={"email": "writer@example.com", "password": USER_PASSWORD}
        ).json()
        rotated = httpx.post(f"{api}/auth/refresh", json={"refreshToken": login["refreshToken"]})
        assert rotated.status_code == 200
        reused = httpx.post(f"{api}/auth/refresh", json={"refreshToken": login["refreshToken"]})
        assert reused.status_code == 401
        for _ in range(3):
            failed = httpx.post(
                f"{api}/auth/login",
                json={"email": "writer@example.com", "password": WRONG_PASSWORD},
            )
            assert failed.status_code == 401
        again = httpx.post(
            f"{api}/auth/login", json={"email": "writer@example.com", "password": USER_PASSWORD}
        ).json()
        user = {"Authorization": f"Bearer {again['accessToken']}"}
        assert httpx.get(f"{api}/users/me", headers=user).status_code == 200
        admin = httpx.post(
            f"{api}/auth/login", json={"email": "admin@example.com", "password": ADMIN_PASSWORD}
        ).json()
        admin_headers = {"Authorization": f"Bearer {admin['accessToken']}"}
        admin_id = httpx.get(f"{api}/users/me", headers=admin_headers).json()["id"]
        forbidden = httpx.patch(
            f"{api}/users/{admin_id}", headers=user, json={"profile": {"bio": "mine now"}}
        )
        assert forbidden.status_code == 403, forbidden.text
        graphql_forbidden = httpx.post(
            f"{server.url}/graphql",
            headers=user,
            json={
                "query": "mutation($id: ID!) { updateUser(id: $id, input: "
                '{profile: {bio: "mine now"}}) { errors { code } } }',
                "variables": {"id": str(admin_id)},
            },
        )
        assert graphql_forbidden.json()["data"]["updateUser"]["errors"] == [
            {"code": "AUTHORIZATION_ERROR"}
        ]
        promoted = httpx.patch(
            f"{api}/users/{user_id}",
            headers=admin_headers,
            json={"roles": ["user", "moderator"]},
        )
        assert promoted.status_code == 200, promoted.text
        logout = httpx.post(f"{api}/auth/logout", json={"refreshToken": again["refreshToken"]})
        assert logout.status_code == 204
        for pair in (login, rotated.json(), again, admin):
            secrets += [pair["accessToken"], pair["refreshToken"]]

    logs = admin_run.stdout + server.logs()
    for secret in secrets:
        assert secret not in logs
    for marker in ("$argon2", "$2b$", "Bearer ", "password_hash"):
        assert marker not in logs

    events = json_lines(logs)
    names = [e["event"] for e in events]
    for security_event in (
        "user_created",
        "login_succeeded",
        "login_failed",
        "refresh_reuse_detected",
        "forbidden",
        "roles_changed",
        "logout",
    ):
        assert security_event in names, security_event
    # One 403 through REST, one through GraphQL: both front doors log the refusal.
    assert names.count("forbidden") == 2
    requests = [e for e in events if e["event"] == "request"]
    for line in requests:
        assert {"request_id", "method", "route", "status", "duration_ms"} <= set(line)
    me = [e for e in requests if e["route"] == "/api/v1/users/me"]
    assert me
    assert me[0]["user_id"] == user_id
    assert {"/api/v1/users/{user_id}", "/api/v1/auth/refresh"} <= {e["route"] for e in requests}


def test_control_characters_in_inputs_cannot_forge_a_log_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO")
    forged = 'x"}\n{"event": "login_succeeded", "target_user_id": 1}\r\x1b[2K\u2028\x85\u2029\x0b'
    get_logger("pressroom.test").info("login_failed", email=forged)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["email"] == forged


def test_secret_fields_are_redacted_whoever_logs_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO")
    get_logger("pressroom.test").info(
        "careless", password="hunter2", refreshToken="r-token", Authorization="Bearer abc"
    )
    line = capsys.readouterr().out
    for secret in ("hunter2", "r-token", "Bearer abc"):
        assert secret not in line
