"""What one command gives on SQLite (`pressroom serve` sends mail itself, as `.eml` files
without SMTP_URL), and what `pressroom jobs` shows and does."""

from __future__ import annotations

import email
import email.policy
import json
import sqlite3
import time
from pathlib import Path

import httpx

from pressroom.db.migrate import migrate
from tests.cli.running import pressroom
from tests.conftest import PASSWORD
from tests.operations.processes import start_server

WAIT_SECONDS = 30


def test_serve_on_sqlite_mails_a_sign_up_as_an_eml_file_with_no_other_process(
    tmp_path: Path,
) -> None:
    mail_dir = tmp_path / "mail"
    server = start_server(
        tmp_path,
        DATABASE_URL=f"sqlite:///{tmp_path / 'one.db'}",
        MAIL_DIR=str(mail_dir),
        RATE_LIMITS_ENABLED="false",
    )
    try:
        body = {
            "email": "solo@example.com",
            "password": PASSWORD,
            "profile": {"firstName": "S", "lastName": "O"},
        }
        assert httpx.post(f"{server.api}/users", json=body, timeout=10).status_code == 201
        deadline = time.monotonic() + WAIT_SECONDS
        while not list(mail_dir.glob("*.eml")) and time.monotonic() < deadline:
            time.sleep(0.1)
        [file] = list(mail_dir.glob("*.eml"))
        message = email.message_from_bytes(file.read_bytes(), policy=email.policy.default)
        assert message["To"] == "solo@example.com"
        plain = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        assert "http://127.0.0.1:8000/verify-email?token=" in plain
        assert "solo@example.com" not in server.logs()  # the mail's contents are never logged
    finally:
        assert server.terminate() == 0


def test_jobs_lists_pending_failed_and_recent_and_retries_a_failed_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    migrate(url)
    created = pressroom(
        "users", "create", "--email", "ops@example.com", "--password", PASSWORD, DATABASE_URL=url
    )
    assert created.returncode == 0, created.stderr
    listed = pressroom("--json", "jobs", DATABASE_URL=url)
    assert listed.returncode == 0, listed.stderr
    lines = {line["listing"]: line["jobs"] for line in map(json.loads, listed.stdout.splitlines())}
    assert [job["kind"] for job in lines["pending"]] == ["mail"]
    assert lines["failed"] == []
    assert lines["recent"] == []
    assert "ops@example.com" not in listed.stdout  # a job's payload is not shown
    job_id = lines["pending"][0]["id"]
    refused = pressroom("jobs", "retry", str(job_id), DATABASE_URL=url)
    assert refused.returncode == 1
    assert f"No failed job {job_id}" in refused.stderr
    with sqlite3.connect(tmp_path / "ops.db") as db:  # as a 5xx would have left it
        db.execute("UPDATE jobs SET status = 'failed', last_error = 'SMTP 550: refused'")
    listed = pressroom("jobs", DATABASE_URL=url)
    failed = [json.loads(line) for line in listed.stdout.splitlines()][1]
    assert failed["listing"] == "failed"
    assert [(j["id"], j["status"], j["lastError"]) for j in failed["jobs"]] == [
        (job_id, "failed", "SMTP 550: refused")
    ]
    retried = pressroom("jobs", "retry", str(job_id), DATABASE_URL=url)
    assert retried.returncode == 0, retried.stderr
    assert '"event": "job_retried"' in retried.stdout
    with sqlite3.connect(tmp_path / "ops.db") as db:
        assert db.execute("SELECT status FROM jobs").fetchall() == [("pending",)]
