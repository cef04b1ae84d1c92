"""The `pressroom` command run as a user runs it: piped (as scripts do) or on a terminal.

`Terminal` gives the command a pseudo-terminal (Python's `pty`), so it sees what a person's shell
gives it: stdout is a TTY, prompts read from it, and Ctrl-C is a byte the line discipline turns
into SIGINT.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import termios
import time
from pathlib import Path

from tests.operations.processes import PRESSROOM, server_env

WAIT_SECONDS = 30.0


def pressroom(
    *args: str, cwd: Path | None = None, **settings: str
) -> subprocess.CompletedProcess[str]:
    """Run `pressroom ARGS` with stdout and stderr piped, the given settings in its environment."""
    return subprocess.run(
        [PRESSROOM, *args],
        capture_output=True,
        text=True,
        env=server_env(**settings),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


class Terminal:
    """`pressroom ARGS` on a pseudo-terminal: `expect` what it prints, `type` what one types."""

    def __init__(self, *args: str, cwd: Path | None = None, **settings: str) -> None:
        env = server_env(**settings)
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: becomes the command, its stdio on the terminal
            if cwd is not None:
                os.chdir(cwd)
            os.execve(PRESSROOM, [PRESSROOM, *args], env)
        self.output = ""
        self._seen = 0

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 4096)
        except OSError:  # the command exited and closed the terminal
            return False
        self.output += chunk.decode(errors="replace")
        return bool(chunk)

    def expect(self, text: str) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while text not in self.output[self._seen :]:
            if time.monotonic() > deadline or not self._read(0.2):
                raise AssertionError(f"{text!r} never appeared; the terminal shows:\n{self.output}")
        self._seen = self.output.index(text, self._seen) + len(text)

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def type_secret(self, keys: str) -> None:
        """Type at a hidden prompt once it hides: getpass turns echo off with TCSAFLUSH, which
        throws away whatever was typed before, so typing on seeing the prompt can be lost."""
        deadline = time.monotonic() + WAIT_SECONDS
        # On Linux the master end reports the terminal's settings, the command's side included.
        while termios.tcgetattr(self.fd)[3] & termios.ECHO:
            if time.monotonic() > deadline:
                raise AssertionError(f"echo never went off; the terminal shows:\n{self.output}")
            time.sleep(0.05)
        self.type(keys)

    def wait(self) -> int:
        """Read to the end; the exit code (negative for a signal, as subprocess reports it)."""
        deadline = time.monotonic() + WAIT_SECONDS
        while self._read(0.2) and time.monotonic() < deadline:
            pass
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)
