"""The command line a person meets: clean help, `--version`, a password asked for rather than
typed into the shell history, sentences on a terminal and JSON lines when piped, errors on
stderr, Ctrl-C ending with 130 and no traceback, and `make run` stopping without an error."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from pressroom import __version__
from pressroom.db.migrate import migrate
from tests.cli.running import WAIT_SECONDS, Terminal, pressroom
from tests.cli.test_seed_demo import sign_in_status
from tests.operations.processes import free_port, server_env

PASSWORD = "Xy-12345678"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/pressroom.db"
    migrate(url)
    return url


@pytest.mark.parametrize("command", [(), ("serve",), ("users", "create"), ("seed-demo",)])
def test_help_shows_no_value_placeholder_on_flags(command: tuple[str, ...]) -> None:
    result = pressroom(*command, "--help")
    assert result.returncode == 0, result
    assert "--help" in result.stdout
    assert "<bool>" not in result.stdout


def test_version() -> None:
    result = pressroom("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"pressroom {__version__}"


def test_users_create_asks_for_the_password_twice_without_echo(
    sqlite_url: str, tmp_path: Path
) -> None:
    terminal = Terminal(
        "users", "create", "--email", "ann@example.com", cwd=tmp_path, DATABASE_URL=sqlite_url
    )
    terminal.expect("Password:")
    terminal.type_secret(PASSWORD + "\n")
    terminal.expect("Repeat for confirmation:")
    terminal.type_secret("Something-else-1\n")
    terminal.expect("do not match")  # a mismatch asks again
    terminal.expect("Password:")
    terminal.type_secret(PASSWORD + "\n")
    terminal.expect("Repeat for confirmation:")
    terminal.type_secret(PASSWORD + "\n")
    # A sentence for the person at the terminal, not a JSON log line.
    terminal.expect("Created account")
    assert terminal.wait() == 0, terminal.output
    assert PASSWORD not in terminal.output
    assert "{" not in terminal.output
    assert sign_in_status(sqlite_url, "ann@example.com", PASSWORD) == 200


def test_users_create_piped_without_password_says_so(sqlite_url: str) -> None:
    result = pressroom("users", "create", "--email", "ann@example.com", DATABASE_URL=sqlite_url)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "--password" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_piped_output_is_json_lines_and_errors_go_to_stderr(sqlite_url: str) -> None:
    args = ("users", "create", "--email", "ann@example.com", "--password", PASSWORD)
    created = pressroom(*args, DATABASE_URL=sqlite_url)
    assert created.returncode == 0, created
    assert '"event": "user_created"' in created.stdout
    assert created.stderr == ""

    taken = pressroom(*args, DATABASE_URL=sqlite_url)
    assert taken.returncode == 1
    assert taken.stdout == ""
    assert '"event": "user_not_created"' in taken.stderr
    assert "Traceback" not in taken.stderr


def test_errors_on_a_terminal_are_sentences(sqlite_url: str, tmp_path: Path) -> None:
    args = ("users", "create", "--email", "ann@example.com", "--password", "short")
    terminal = Terminal(*args, cwd=tmp_path, DATABASE_URL=sqlite_url)
    terminal.expect("pressroom: account not created")
    assert terminal.wait() == 1
    assert "{" not in terminal.output


def test_json_flag_on_a_terminal(sqlite_url: str, tmp_path: Path) -> None:
    args = ("--json", "users", "create", "--email", "ann@example.com", "--password", PASSWORD)
    terminal = Terminal(*args, cwd=tmp_path, DATABASE_URL=sqlite_url)
    terminal.expect('"event": "user_created"')
    assert terminal.wait() == 0


def test_ctrl_c_at_the_password_prompt_ends_with_130(sqlite_url: str, tmp_path: Path) -> None:
    terminal = Terminal(
        "users", "create", "--email", "ann@example.com", cwd=tmp_path, DATABASE_URL=sqlite_url
    )
    terminal.expect("Password:")
    terminal.type("\x03")  # what Ctrl-C sends; the terminal turns it into SIGINT
    assert terminal.wait() == 130, terminal.output
    assert "Traceback" not in terminal.output


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize("stop", ["Ctrl-C", "SIGTERM"])
def test_make_run_stops_without_an_error(stop: str, tmp_path: Path) -> None:
    port = free_port()
    make = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"PORT={port}"],
        cwd=REPO,
        env=server_env(DATABASE_URL=f"sqlite:///{tmp_path}/pressroom.db"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, as a shell gives a job
    )
    assert make.stdout is not None
    for line in make.stdout:
        if b"Uvicorn running" in line:
            break
    if stop == "Ctrl-C":
        os.killpg(make.pid, signal.SIGINT)  # the terminal signals the whole foreground job
    else:
        server = subprocess.run(
            ["pgrep", "-P", str(make.pid)], capture_output=True, text=True, check=True
        )
        os.kill(int(server.stdout.split()[0]), signal.SIGTERM)  # a process manager's stop
    try:
        rest = make.communicate(timeout=WAIT_SECONDS)[0].decode(errors="replace")
    except subprocess.TimeoutExpired:
        os.killpg(make.pid, signal.SIGKILL)  # the job's group: make and the server it started
        make.communicate()
        pytest.fail(f"make run was still running {WAIT_SECONDS} s after {stop}")
    assert "Error" not in rest, rest
    assert "Traceback" not in rest, rest
    if stop == "SIGTERM":
        assert make.returncode == 0, rest
