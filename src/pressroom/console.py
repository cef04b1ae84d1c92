"""How the command line speaks: plain sentences on a terminal, JSON lines (like the server's
logs) with `--json` or when stdout is not a terminal; errors on stderr, one line each.

Every command runs inside `CommandWithCleanExits`: a setting mistake (`SettingProblem`) ends it
with one line and exit code 2, Ctrl-C with exit code 130, neither with a traceback unless
`--debug` asked for one.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn

import typer
from typer.core import TyperCommand, TyperGroup

from pressroom.startup_checks import SettingProblem

SETTING_MISTAKE_EXIT = 2
# What a shell reports for a command killed by SIGINT (128 + 2); scripts test for it.
INTERRUPTED_EXIT = 130


@dataclass
class Console:
    json: bool = False
    debug: bool = False

    def configure(self, *, json_requested: bool, debug: bool) -> None:
        self.json = json_requested or not sys.stdout.isatty()
        self.debug = debug

    def done(self, event: str, sentence: str, **fields: Any) -> None:
        """Report success: `sentence` for a person, `event` and `fields` for a machine."""
        if self.json:
            typer.echo(_json_line("info", event, fields))
        else:
            typer.echo(sentence)

    def fail(self, event: str, sentence: str, exit_code: int = 1, **fields: Any) -> NoReturn:
        """Say what went wrong on stderr, in one line, and end the command with `exit_code`."""
        if self.json:
            typer.echo(_json_line("error", event, {"reason": sentence, **fields}), err=True)
        else:
            typer.echo(f"pressroom: {sentence}", err=True)
        raise typer.Exit(exit_code)


console = Console()


def _json_line(level: str, event: str, fields: dict[str, Any]) -> str:
    record = {
        "event": event,
        "level": level,
        "logger": "pressroom.cli",
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        **fields,
    }
    return json.dumps(record, default=str)


def _flags_without_placeholders(params: Sequence[Any]) -> None:
    # Typer 0.29's rich help prints a value placeholder (`--help <bool>`) even for options
    # that take no value; an empty metavar keeps that column blank for flags only.
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""


class CommandWithCleanExits(TyperCommand):
    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        _flags_without_placeholders(params)
        return params

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except SettingProblem as problem:
            if console.debug:
                traceback.print_exception(problem)
            console.fail(
                "setting_invalid", str(problem), SETTING_MISTAKE_EXIT, setting=problem.setting
            )
        except (KeyboardInterrupt, typer.Abort):
            # Ctrl-C, or a prompt's input ended: nothing to add but that we stopped.
            console.fail("interrupted", "interrupted", INTERRUPTED_EXIT)


class GroupWithCleanHelp(TyperGroup):
    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        _flags_without_placeholders(params)
        return params


class PressroomTyper(typer.Typer):
    """A Typer whose commands and groups default to the classes above."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", GroupWithCleanHelp)
        super().__init__(**kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Any], Any]:
        kwargs.setdefault("cls", CommandWithCleanExits)
        return super().command(*args, **kwargs)
