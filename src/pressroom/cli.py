"""`pressroom`: serve · migrate · users create · seed-demo · recount · openapi · graphql-schema.

Commands speak through `console` (pressroom/console.py): sentences on a terminal, JSON lines
with `--json` or when piped, errors on stderr. A new command is a function under
`@app.command()`; one that uses the database starts with `ready_database(settings)`.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from types import FrameType
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from pressroom import __version__
from pressroom.auth.permissions import Role
from pressroom.config import Settings
from pressroom.console import SETTING_MISTAKE_EXIT, PressroomTyper, console
from pressroom.db.migrate import SchemaState
from pressroom.kit.observability import configure_logging
from pressroom.startup_checks import check_database, check_redis, check_urls

app = PressroomTyper(
    help="Pressroom: users, sign-in, roles, posts and tags.",
    no_args_is_help=True,
    add_completion=False,
)
users_app = PressroomTyper(
    help="Manage accounts from the server's own shell.", no_args_is_help=True
)
app.add_typer(users_app, name="users")
jobs_app = PressroomTyper(
    help="The background jobs: pending, failed and recent ones; retry a failed one.",
)
app.add_typer(jobs_app, name="jobs")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"pressroom {__version__}")
        raise typer.Exit


@app.callback()
def options(
    json_output: Annotated[
        bool,
        typer.Option("--json", help="JSON lines on stdout even on a terminal (always when piped)."),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback behind a setting mistake.")
    ] = False,
    _version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    console.configure(json_requested=json_output, debug=debug)
    if not console.json:
        # Sentences on a terminal, not the libraries' JSON progress lines (alembic's, ...).
        configure_logging("WARNING")


def load_settings() -> Settings:
    """The settings from the environment, their URLs parsed; or exit 2 naming what is wrong."""
    try:
        settings = Settings()
    except ValidationError as error:
        problems = [
            f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg'].removeprefix('Value error, ')}"
            for e in error.errors()
        ]
        console.fail("configuration_invalid", "; ".join(problems), SETTING_MISTAKE_EXIT)
    check_urls(settings)
    return settings


def ready_database(
    settings: Settings, *, redis: bool = True, migrate_embedded: bool = False
) -> SchemaState:
    """Exit 2 with one line unless the database (and Redis, when set and `redis`) answers and
    the schema is the one this release expects. `migrate_embedded` migrates a SQLite database
    that is behind instead: the embedded default sets itself up, like `make run`; a shared
    PostgreSQL database is migrated once, on purpose, before instances start."""
    state = asyncio.run(check_database(settings))
    if redis and settings.redis_url is not None:
        asyncio.run(check_redis(settings))
    if state.is_current:
        return state
    if not (migrate_embedded and state.is_known and _is_sqlite(settings)):
        _refuse_schema(state)
    return _migrate(settings, state)


def _is_sqlite(settings: Settings) -> bool:
    return make_url(settings.database_url).get_backend_name() == "sqlite"


def _refuse_schema(state: SchemaState) -> NoReturn:
    action = "run `pressroom migrate`" if state.is_known else "run the release that migrated it"
    console.fail(
        "schema_not_current",
        f"{state.describe()}: {action} first",
        SETTING_MISTAKE_EXIT,
        current=state.current,
        expected=state.expected,
    )


# How long uvicorn's supervisor waits for a worker to answer its health check before killing it.
# uvicorn's 5 s is shorter than importing the app on a loaded 2-core host (about 5 s of CPU), so
# `serve --workers 2` there killed its workers while they were still starting; a hung worker is
# now replaced after 30 s instead of 5.
WORKER_HEALTHCHECK_SECONDS = 30


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default: $HOST or 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="default: $PORT or 8000")] = None,
    workers: Annotated[int, typer.Option(min=1, help="worker processes")] = 1,
) -> None:
    """Serve the API (on SQLite it migrates first; on PostgreSQL run `pressroom migrate`)."""
    import uvicorn

    from pressroom.app import ConfigurationError, create_app
    from pressroom.kit.observability import get_logger, prepare_multiprocess_dir

    settings = load_settings()
    try:
        create_app(settings)  # fail here, in the parent, with a readable reason
    except ConfigurationError as error:
        console.fail("startup_refused", str(error), SETTING_MISTAKE_EXIT)
    # After the production checks: a refused configuration must not have migrated anything.
    ready_database(settings, migrate_embedded=True)
    _exit_cleanly_after_graceful_shutdown()
    # Each worker keeps its own metrics; this is where they meet, so any worker's /metrics
    # reports all of them.
    metrics_dir = prepare_multiprocess_dir(workers)
    if metrics_dir is not None:
        # A server log line (JSON, like the workers' own), not a console message.
        get_logger("pressroom.cli").info(
            "metrics_shared_by_workers", directory=str(metrics_dir), workers=workers
        )
    uvicorn.run(
        "pressroom.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        proxy_headers=False,
        server_header=False,
        access_log=False,
        # Our JSON logging (set up by create_app) covers uvicorn's loggers too.
        log_config=None,
        # On SIGTERM: stop accepting, let in-flight requests finish, then exit.
        timeout_graceful_shutdown=20,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )


def _exit_cleanly_after_graceful_shutdown() -> None:
    """uvicorn handles SIGTERM and SIGINT itself, then raises the signal again once it has shut
    down; with these handlers in place that ends the process with 0, so `make run` and process
    managers see a clean stop rather than "Error 143" or a KeyboardInterrupt."""

    def ignore(_signum: int, _frame: FrameType | None) -> None:
        return None

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, ignore)


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema to the latest revision."""
    settings = load_settings()
    state = asyncio.run(check_database(settings))
    if not state.is_known:
        _refuse_schema(state)
    if state.is_current:
        console.done(
            "database_migrated",
            f"The schema is already at revision {state.expected}; nothing to do.",
            revision=state.expected,
        )
        return
    _migrate(settings, state)


def _migrate(settings: Settings, state: SchemaState) -> SchemaState:
    from pressroom.db.migrate import migrate as run_migrations

    run_migrations(settings.database_url)
    console.done(
        "database_migrated",
        f"Migrated the schema from revision {state.current or '(none)'} to {state.expected}.",
        previous=state.current,
        revision=state.expected,
    )
    return SchemaState(current=state.expected, expected=state.expected)


@users_app.command("create")
def create_user(
    email: Annotated[str, typer.Option(help="the account's email")],
    password: Annotated[
        str | None,
        typer.Option(help="checked against the password policy; asked for when omitted"),
    ] = None,
    role: Annotated[Role, typer.Option(help="user, moderator or admin")] = Role.USER,
    first_name: Annotated[str | None, typer.Option(help="default: the role's name")] = None,
    last_name: Annotated[str, typer.Option()] = "User",
) -> None:
    """Create an account with a role; the only way to make the first admin."""
    from pressroom.db.units import unit_of_work
    from pressroom.kit.errors import AppError
    from pressroom.services import Services
    from pressroom.users.schemas import CreateUserRequest

    settings = load_settings()
    ready_database(settings)
    if password is None:
        password = _ask_password()

    async def run() -> int:
        services = Services.build(settings)
        try:
            data = CreateUserRequest.model_validate(
                {
                    "email": email,
                    "password": password,
                    "profile": {
                        "firstName": first_name or role.value.capitalize(),
                        "lastName": last_name,
                    },
                }
            )
            roles = (Role.USER,) if role is Role.USER else (Role.USER, role)
            async with unit_of_work(services.db) as uow:
                view = await services.users.sign_up(uow, data, roles=roles)
            return view.user.id
        finally:
            await services.close()

    try:
        user_id = asyncio.run(run())
    except AppError as error:
        reasons = [f"{field}: {'; '.join(msgs)}" for field, msgs in error.details.items()]
        console.fail(
            "user_not_created",
            f"account not created: {error.message}"
            + (f" ({', '.join(reasons)})" if reasons else ""),
            details=error.details,
        )
    except ValidationError as error:
        reasons = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()]
        console.fail("user_not_created", "account not created: " + "; ".join(reasons))
    console.done(
        "user_created",
        f"Created account {user_id} ({email}) with role {role.value}.",
        target_user_id=user_id,
        role=role.value,
    )


def _ask_password() -> str:
    # Asked, not typed on the command line, so it stays out of the shell history and `ps`.
    if not sys.stdin.isatty():
        console.fail(
            "user_not_created",
            "no --password given and no terminal to ask on; pass --password",
            SETTING_MISTAKE_EXIT,
        )
    answer: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return answer


@app.command("seed-demo")
def seed_demo(
    users: Annotated[int, typer.Option(min=1)] = 1000,
    posts: Annotated[int, typer.Option(min=0)] = 10_000,
    tags: Annotated[int, typer.Option(min=1)] = 50,
    force: Annotated[
        bool, typer.Option("--force", help="Add another batch when demo data is already there.")
    ] = False,
) -> None:
    """Fill the database with demo data and print how to sign in (not in production)."""
    from pressroom.demo import DEMO_PASSWORD, AlreadySeeded, seed

    settings = load_settings()
    if settings.is_production:
        console.fail(
            "seed_refused",
            "seed-demo is refused in production mode (PRESSROOM_ENV=production): its accounts"
            " share a published password",
            SETTING_MISTAKE_EXIT,
        )
    ready_database(settings, redis=False)
    try:
        seeded = asyncio.run(seed(settings, users=users, posts=posts, tags=tags, force=force))
    except AlreadySeeded as error:
        console.fail("seed_refused", f"{error}; pass --force to add another batch")
    # The password is printed for the person at the terminal, never written to a log line.
    console.done(
        "demo_seeded",
        f"Seeded {seeded.users} users, {seeded.posts} posts and {seeded.tags} tags.\n"
        f"Sign in as {seeded.first_email} … {seeded.last_email}"
        f" with the password {DEMO_PASSWORD}",
        users=seeded.users,
        posts=seeded.posts,
        tags=seeded.tags,
        first_email=seeded.first_email,
        last_email=seeded.last_email,
    )


@app.command()
def recount() -> None:
    """Set every kept counter (the published list's total) from the rows; report what changed."""
    from pressroom.db.units import unit_of_work
    from pressroom.posts.models import CounterRepair
    from pressroom.services import Services

    settings = load_settings()
    ready_database(settings, redis=False)

    async def run() -> list[CounterRepair]:
        services = Services.build(settings)
        try:
            async with unit_of_work(services.db) as uow:
                return await services.posts.repair_counters(uow)
        finally:
            await services.close()

    repairs = asyncio.run(run())
    for repair in repairs:
        console.done(
            "counter_repaired",
            f"Repaired {repair.counter}: {repair.before} -> {repair.after}",
            counter=repair.counter,
            before=repair.before,
            after=repair.after,
        )
    if not repairs:
        console.done(
            "counters_checked",
            "Every counter is true: nothing to repair.",
            result="nothing to repair",
        )


@app.command()
def worker(
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="jobs at once; default: $WORKER_CONCURRENCY or 4")
    ] = None,
) -> None:
    """Run background jobs (mail, webhook deliveries) until stopped; any number share the work."""
    from pressroom.jobs.worker import Worker
    from pressroom.services import Services

    settings = load_settings()
    problems = settings.production_problems()
    if problems:
        console.fail(
            "startup_refused",
            "refusing to start in production mode: " + "; ".join(problems),
            SETTING_MISTAKE_EXIT,
        )
    ready_database(settings)
    configure_logging(settings.log_level)

    async def run() -> None:
        services = Services.build(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            # The attempts under way finish (each within its lease); then the worker exits 0.
            loop.add_signal_handler(sig, stop.set)
        try:
            await Worker(services, concurrency=concurrency).run(stop)
        finally:
            await services.close()

    asyncio.run(run())


@jobs_app.callback(invoke_without_command=True)
def jobs(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="jobs per list")] = 20,
) -> None:
    """List pending (and running), failed and recently finished jobs, newest first."""
    if ctx.invoked_subcommand is not None:
        return
    from pressroom.db.units import unit_of_work
    from pressroom.jobs.service import LISTINGS
    from pressroom.services import Services

    settings = load_settings()
    ready_database(settings, redis=False)

    async def run() -> dict[str, list[Any]]:
        services = Services.build(settings)
        try:
            async with unit_of_work(services.db) as uow:
                return {which: await services.jobs.listing(uow, which, limit) for which in LISTINGS}
        finally:
            await services.close()

    for which, found in asyncio.run(run()).items():
        if not found:
            console.done("jobs_listed", f"{which}: none", listing=which, jobs=[])
            continue
        lines = [
            f"  #{j.id} {j.kind} {j.status.value} attempts={j.attempts}"
            f" created={j.created_at:%Y-%m-%d %H:%M:%S}Z"
            + (f" next={j.run_at:%H:%M:%S}Z" if j.status.value == "pending" else "")
            + (f" error={j.last_error}" if j.last_error else "")
            for j in found
        ]
        console.done(
            "jobs_listed",
            f"{which}:\n" + "\n".join(lines),
            listing=which,
            jobs=[
                {
                    "id": j.id,
                    "kind": j.kind,
                    "status": j.status.value,
                    "attempts": j.attempts,
                    "createdAt": j.created_at.isoformat(),
                    "runAt": j.run_at.isoformat(),
                    "lastError": j.last_error,
                }
                for j in found
            ],
        )


@jobs_app.command("retry")
def retry_job(job_id: Annotated[int, typer.Argument(help="the failed job's id")]) -> None:
    """Run a failed job again, with a fresh retry window."""
    from pressroom.db.units import unit_of_work
    from pressroom.kit.errors import AppError
    from pressroom.services import Services

    settings = load_settings()
    ready_database(settings, redis=False)

    async def run() -> None:
        services = Services.build(settings)
        try:
            async with unit_of_work(services.db) as uow:
                await services.jobs.retry(uow, job_id)
        finally:
            await services.close()

    try:
        asyncio.run(run())
    except AppError as error:
        console.fail("job_not_retried", error.message, job_id=job_id)
    console.done("job_retried", f"Job {job_id} is pending again.", job_id=job_id)


@app.command()
def openapi() -> None:
    """Print the OpenAPI document."""
    from pressroom.app import create_app

    typer.echo(json.dumps(create_app(load_settings()).openapi(), indent=2))


@app.command("graphql-schema")
def graphql_schema() -> None:
    """Print the GraphQL schema (SDL), as committed in src/pressroom/graphql/schema.graphql."""
    from pressroom.graphql.schema import sdl

    typer.echo(sdl(), nl=False)


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    configure_logging(os.environ.get("LOG_LEVEL", "INFO"))
    app()
