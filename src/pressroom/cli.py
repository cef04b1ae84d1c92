"""`pressroom`: serve · migrate · users create · seed-demo · openapi · graphql-schema.

Commands report as JSON log lines on stdout, like the server; only `openapi` and
`graphql-schema` print a document.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Annotated

import typer
from pydantic import ValidationError

from pressroom.auth.permissions import Role
from pressroom.config import Settings
from pressroom.kit.observability import configure_logging, get_logger

app = typer.Typer(help="Pressroom: users, sign-in, roles, posts and tags.", no_args_is_help=True)
users_app = typer.Typer(help="Manage accounts from the server's own shell.", no_args_is_help=True)
app.add_typer(users_app, name="users")
log = get_logger("pressroom.cli")


def load_settings() -> Settings:
    """The settings from the environment, or exit 2 with a log line naming what is wrong."""
    try:
        return Settings()
    except ValidationError as error:
        problems = [f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in error.errors()]
        log.error("configuration_invalid", problems=problems)
        raise typer.Exit(2) from None


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default: $HOST or 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="default: $PORT or 8000")] = None,
    workers: Annotated[int, typer.Option(min=1, help="worker processes")] = 1,
) -> None:
    """Serve the API (run `pressroom migrate` first)."""
    import uvicorn

    from pressroom.app import ConfigurationError, create_app
    from pressroom.kit.observability import prepare_multiprocess_dir

    settings = load_settings()
    try:
        create_app(settings)  # fail here, in the parent, with a readable reason
    except ConfigurationError as error:
        log.error("startup_refused", reason=str(error))
        raise typer.Exit(2) from None
    # Each worker keeps its own metrics; this is where they meet, so any worker's /metrics
    # reports all of them.
    metrics_dir = prepare_multiprocess_dir(workers)
    if metrics_dir is not None:
        log.info("metrics_shared_by_workers", directory=str(metrics_dir), workers=workers)
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
    )


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema to the latest revision."""
    from pressroom.db.migrate import migrate as run_migrations

    settings = load_settings()
    run_migrations(settings.database_url)
    log.info("database_migrated")


@users_app.command("create")
def create_user(
    email: Annotated[str, typer.Option(help="the account's email")],
    password: Annotated[str, typer.Option(help="checked against the password policy")],
    role: Annotated[Role, typer.Option(help="user, moderator or admin")] = Role.USER,
    first_name: Annotated[str | None, typer.Option(help="default: the role's name")] = None,
    last_name: Annotated[str, typer.Option()] = "User",
) -> None:
    """Create an account with a role; the only way to make the first admin."""
    from pressroom.kit.errors import AppError
    from pressroom.services import Services
    from pressroom.users.schemas import CreateUserRequest

    async def run() -> int:
        services = Services.build(load_settings())
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
            view = await services.users.sign_up(data, roles=roles)
            return view.user.id
        finally:
            await services.close()

    try:
        user_id = asyncio.run(run())
    except AppError as error:
        log.error("user_not_created", reason=error.message, details=error.details)
        raise typer.Exit(1) from None
    except ValueError as error:
        log.error("user_not_created", reason=str(error))
        raise typer.Exit(1) from None
    log.info("user_created", target_user_id=user_id, role=role.value)


@app.command("seed-demo")
def seed_demo(
    users: Annotated[int, typer.Option(min=1)] = 1000,
    posts: Annotated[int, typer.Option(min=0)] = 10_000,
    tags: Annotated[int, typer.Option(min=1)] = 50,
) -> None:
    """Fill the database with demo data (the data set the benchmarks use)."""
    from pressroom.demo import seed

    asyncio.run(seed(load_settings(), users=users, posts=posts, tags=tags))
    # The demo accounts' password is pressroom.demo.DEMO_PASSWORD; no password goes in a log.
    log.info("demo_seeded", users=users, posts=posts, tags=tags)


@app.command()
def recount() -> None:
    """Set every kept counter (the published list's total) from the rows; report what changed."""
    from pressroom.posts.models import CounterRepair
    from pressroom.services import Services

    async def run() -> list[CounterRepair]:
        services = Services.build(load_settings())
        try:
            return await services.posts.repair_counters()
        finally:
            await services.close()

    repairs = asyncio.run(run())
    for repair in repairs:
        log.info(
            "counter_repaired", counter=repair.counter, before=repair.before, after=repair.after
        )
    if not repairs:
        log.info("counters_checked", result="nothing to repair")


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
