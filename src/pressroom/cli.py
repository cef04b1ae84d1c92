"""`pressroom`: serve · migrate · users create · seed-demo · openapi."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Annotated

import typer

from pressroom.auth.permissions import Role
from pressroom.config import Settings

app = typer.Typer(help="Pressroom: users, sign-in, roles, posts and tags.", no_args_is_help=True)
users_app = typer.Typer(help="Manage accounts from the server's own shell.", no_args_is_help=True)
app.add_typer(users_app, name="users")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default: $HOST or 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="default: $PORT or 8000")] = None,
    workers: Annotated[int, typer.Option(min=1, help="worker processes")] = 1,
) -> None:
    """Serve the API (run `pressroom migrate` first)."""
    import uvicorn

    from pressroom.app import ConfigurationError, create_app

    settings = Settings()
    try:
        create_app(settings)  # fail here, in the parent, with a readable reason
    except ConfigurationError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    uvicorn.run(
        "pressroom.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        proxy_headers=False,
        server_header=False,
        access_log=False,
        timeout_graceful_shutdown=20,
    )


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema to the latest revision."""
    from pressroom.db.migrate import migrate as run_migrations

    settings = Settings()
    run_migrations(settings.database_url)
    typer.echo("database is up to date")


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
        services = Services.build(Settings())
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
        typer.echo(f"{error.message}: {json.dumps(error.details)}", err=True)
        raise typer.Exit(1) from None
    except ValueError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"created user {user_id} ({email}) with role {role.value}")


@app.command("seed-demo")
def seed_demo(
    users: Annotated[int, typer.Option(min=1)] = 1000,
    posts: Annotated[int, typer.Option(min=0)] = 10_000,
    tags: Annotated[int, typer.Option(min=1)] = 50,
) -> None:
    """Fill the database with demo data (the data set the benchmarks use)."""
    from pressroom.demo import DEMO_PASSWORD, seed

    asyncio.run(seed(Settings(), users=users, posts=posts, tags=tags))
    typer.echo(f"seeded {users} users (password {DEMO_PASSWORD!r}), {posts} posts, {tags} tags")


@app.command()
def openapi() -> None:
    """Print the OpenAPI document."""
    from pressroom.app import create_app

    typer.echo(json.dumps(create_app(Settings()).openapi(), indent=2))


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()
