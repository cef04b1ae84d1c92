"""Rules about users: sign-up, who sees what of a user, who may change or delete whom."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from pressroom.auth.actor import SESSION_ENDED, Actor
from pressroom.auth.permissions import Permission, Role
from pressroom.config import Settings
from pressroom.db.connection import Connection
from pressroom.db.units import UnitOfWork
from pressroom.events import payloads
from pressroom.events.models import EventType
from pressroom.events.recorder import EventRecorder
from pressroom.kit.client_address import ClientInfo
from pressroom.kit.clock import utcnow
from pressroom.kit.conditional import Precondition, require_current
from pressroom.kit.cursors import Slice, SliceRequest
from pressroom.kit.errors import (
    AppError,
    AuthenticationFailed,
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
)
from pressroom.kit.hot_reads import HotReadCache
from pressroom.kit.idempotency import Receipt
from pressroom.kit.observability import Metrics, get_logger
from pressroom.kit.pagination import Page, PageRequest
from pressroom.kit.passwords import PasswordHasher, password_problems
from pressroom.kit.ratelimit import RateLimits
from pressroom.kit.sorting import parse_sort
from pressroom.kit.validation import parse_input
from pressroom.kit.windows import Window
from pressroom.users.models import Profile, UserQuery, UserRecord, UserView
from pressroom.users.repository import EmailTaken, UserRepository
from pressroom.users.schemas import CreateUserRequest, UpdateUserRequest, UserOut
from pressroom.users.sorting import DEFAULT_USER_SORT, UserSortKey

log = get_logger("pressroom.security")
USER_NOT_FOUND = "User not found"
ROLES_WITHOUT_USER = 'must include "user"; every account holds it'
EMAIL_TAKEN = "An account with this email already exists"
TOO_MANY_SIGN_UPS = "Too many sign-ups from this address; retry later"
EMAIL_NOT_VERIFIED = "Verify your email address before creating or publishing posts"


class AccountSessions(Protocol):
    """The sessions of an account, which a deletion ends. Sessions are auth's, and auth reads
    accounts (sign-in), so users asks through this port, which `AuthService` fills in at the
    composition root (services.py), rather than import auth's repository: no cycle."""

    async def end_account_sessions(
        self, conn: Connection, user_id: int, now: datetime
    ) -> list[int]: ...

    async def forget_sessions(self, session_ids: list[int]) -> None: ...


class VerificationMail(Protocol):
    """A verification token and its mail, written in sign-up's transaction. Accounts by email
    are accounts' to send (`AccountService` fills this in at services.py)."""

    async def queue_verification(
        self, conn: Connection, user_id: int, email: str, now: datetime
    ) -> None: ...


class UserService:
    def __init__(
        self,
        hasher: PasswordHasher,
        settings: Settings,
        metrics: Metrics,
        limits: RateLimits,
        sessions: AccountSessions,
        verification: VerificationMail,
        hot_reads: HotReadCache,
        events: EventRecorder,
    ) -> None:
        self.hot_reads = hot_reads
        self.hasher = hasher
        self.settings = settings
        self.metrics = metrics
        self.limits = limits
        self.sessions = sessions
        self.verification = verification
        self.events = events

    def check_new_password(self, password: str, field: str = "password") -> None:
        problems = password_problems(password, self.settings.password_policy)
        if problems:
            raise ValidationFailed(details={field: problems})

    def sign_up_input(self, raw: dict[str, Any]) -> CreateUserRequest:
        """A sign-up body (GraphQL's input as REST's JSON), refused with every failing field at
        once, the password rule included (docs/api.md); `sign_up` checks the password again."""
        try:
            return parse_input(CreateUserRequest, raw)
        except ValidationFailed as failed:
            raise self.with_password_problems(failed, raw.get("password")) from None

    def with_password_problems(
        self, failed: ValidationFailed, password: object
    ) -> ValidationFailed:
        """`failed` (the body's own rules) plus the password rule's findings, which depend on
        the settings and so are not among the model's rules."""
        if isinstance(password, str) and "password" not in failed.details:
            problems = password_problems(password, self.settings.password_policy)
            if problems:
                failed.details["password"] = list(problems)
        return failed

    async def sign_up(
        self,
        uow: UnitOfWork,
        data: CreateUserRequest,
        roles: tuple[Role, ...] = (Role.USER,),
        client: ClientInfo | None = None,
        receipt: Receipt[UserView] | None = None,
    ) -> UserView:
        """Anyone may sign up as a user; other roles come only from the CLI (it passes `roles`).

        Sign-ups over the network pass `client` and are limited per address; every attempt
        counts, so the 409 cannot be used to test many emails either.
        """
        if client is not None:
            await self.limits.hit(
                self.limits.policies.sign_up_per_address, client.address, message=TOO_MANY_SIGN_UPS
            )
        self.check_new_password(data.password)
        async with uow.read() as conn:
            if await UserRepository(conn).email_taken(data.email):
                raise Conflict(EMAIL_TAKEN, {"email": [EMAIL_TAKEN]})
        async with uow.released() as no_connection:
            password_hash = await self.hasher.hash(no_connection, data.password)
        profile = Profile(
            data.profile.first_name,
            data.profile.last_name,
            data.profile.avatar_url,
            data.profile.bio,
        )
        try:
            async with uow.write() as conn:
                repo = UserRepository(conn)
                if await repo.email_taken(data.email):
                    raise Conflict(EMAIL_TAKEN, {"email": [EMAIL_TAKEN]})
                now = utcnow()
                role_names = sorted(r.value for r in roles)
                user_id = await repo.create(
                    email=data.email,
                    password_hash=password_hash,
                    profile=profile,
                    roles=role_names,
                    now=now,
                )
                # In the sign-up's transaction: no mail for a sign-up that rolls back.
                await self.verification.queue_verification(conn, user_id, data.email, now)
                # What was just written, as `get` would read it back, without a statement.
                user = UserRecord(
                    user_id, data.email, False, tuple(role_names), profile, True, now, now
                )
                await self.events.record(
                    conn, payloads.user_event(EventType.USER_CREATED, user), now
                )
                if receipt is not None:
                    await receipt.record(conn, UserView(user, full=True))
        except EmailTaken:
            raise Conflict(EMAIL_TAKEN, {"email": [EMAIL_TAKEN]}) from None
        self.metrics.count("sign_up")
        log.info("user_signed_up", target_user_id=user.id)
        return UserView(user, full=True)

    async def get(self, uow: UnitOfWork, actor: Actor, user_id: int) -> UserView:
        actor.require_user_id()
        async with uow.read() as conn:
            user = await UserRepository(conn).get(user_id)
        if user is None:
            raise NotFound(USER_NOT_FOUND)
        return self._view(actor, user)

    async def current(self, uow: UnitOfWork, actor: Actor) -> UserView:
        return await self.get(uow, actor, actor.require_user_id())

    async def list_users(
        self,
        uow: UnitOfWork,
        actor: Actor,
        page: PageRequest,
        *,
        sort: str | None = None,
        search: str | None = None,
        role: str | None = None,
    ) -> Page[UserView]:
        manager = self._may_list(actor, role)
        fields = parse_sort(sort, UserSortKey, DEFAULT_USER_SORT)
        if not manager and any(f.key is UserSortKey.EMAIL for f in fields):
            raise Forbidden("Sorting by email requires the users:manage permission")
        wanted = UserQuery(manager, search.strip() if search else None, role, fields)
        async with uow.read() as conn:
            found = await UserRepository(conn).find(wanted, Window.of_page(page))
        return Page([self._view(actor, u) for u in found.items], page, found.total)

    async def list_slice(
        self,
        uow: UnitOfWork,
        actor: Actor,
        request: SliceRequest,
        *,
        search: str | None = None,
        role: str | None = None,
    ) -> Slice[UserView]:
        """The cursor-paginated user list (GraphQL), newest first, under `list_users`' rules."""
        manager = self._may_list(actor, role)
        wanted = UserQuery(manager, search.strip() if search else None, role)
        async with uow.read() as conn:
            found = (await UserRepository(conn).find(wanted, Window.of_slice(request))).slice()
        views = [self._view(actor, u) for u in found.items]
        return Slice(views, found.positions, found.total, found.has_next, found.has_previous)

    async def views(
        self, uow: UnitOfWork, actor: Actor, user_ids: Sequence[int]
    ) -> dict[int, UserView]:
        """Many users at once (authors of a post list), each as this actor may see them.

        Unlike `get`, anonymous callers may ask: a post's author is public (REST shows its id
        and profile on every post), and the public view shows nothing more.
        """
        async with uow.read() as conn:
            found = await UserRepository(conn).get_many(user_ids)
        return {user_id: self._view(actor, user) for user_id, user in found.items()}

    def _may_list(self, actor: Actor, role: str | None) -> bool:
        """Signed-in callers list users; filtering by role is for users:manage holders.
        Returns whether the actor is such a manager."""
        actor.require_user_id()
        manager = actor.can(Permission.USERS_MANAGE)
        if role is not None:
            if not manager:
                raise Forbidden("Filtering by role requires the users:manage permission")
            if role not in {r.value for r in Role}:
                raise ValidationFailed.on("role", f"unknown role {role!r}")
        return manager

    async def update(
        self,
        uow: UnitOfWork,
        actor: Actor,
        user_id: int,
        changes: UpdateUserRequest,
        expected: Precondition | None = None,
    ) -> UserView:
        """A change to an account; with `expected` (If-Match), only to the account as the caller
        last read it (their full view): a stale one changes nothing (412)."""
        actor.require_user_id()
        given = changes.given()
        async with uow.write() as conn:
            repo = UserRepository(conn)
            await require_live_account(conn, actor, hold=False)
            target = _found(actor, user_id, await repo.get(user_id))
            manager = actor.can(Permission.USERS_MANAGE)
            if not (manager or actor.is_user(user_id)):
                raise Forbidden("You may only change your own account")
            if "roles" in given and not manager:
                raise Forbidden("Changing roles requires the users:manage permission")
            if "roles" in given and changes.roles is not None and Role.USER not in changes.roles:
                # Refused, not added silently: every account holds `user` (the base of docs/api.md
                # table, the sign-up default), and a body is applied as sent or not at all.
                raise ValidationFailed.on("roles", ROLES_WITHOUT_USER)
            require_current(expected, UserOut.of(UserView(target, full=True)))
            now = utcnow()
            if "profile" in given and changes.profile is not None:
                profile_values = changes.profile.model_dump(exclude_unset=True)
                if profile_values:
                    await repo.update_profile(user_id, profile_values, now)
            if "settings" in given and changes.settings is not None:
                settings_values = changes.settings.model_dump(exclude_unset=True)
                if settings_values:
                    await repo.update_settings(user_id, settings_values)
            if "roles" in given and changes.roles is not None:
                new_roles = sorted({r.value for r in changes.roles})
                await self._guard_last_admin(repo, target, keeps_admin=Role.ADMIN in new_roles)
                await repo.set_roles(user_id, new_roles)
                log.info(
                    "roles_changed",
                    target_user_id=user_id,
                    old_roles=list(target.roles),
                    new_roles=new_roles,
                )
            # Decided on the row itself, after the changes: an edit that committed since the
            # read above moved `updated_at`, so this one is undone (users' rows are not locked
            # up front: the last-admin guard locks admins in id order, see count_live_admins).
            current = await repo.touch(user_id, now, unchanged_since=_read_at(expected, target))
            # Deleted meanwhile (PostgreSQL, READ COMMITTED): the raise undoes these changes.
            updated = _found(actor, user_id, await repo.get(user_id))
            if not current:
                raise PreconditionFailed()
            await self.events.record(
                conn, payloads.user_event(EventType.USER_UPDATED, updated), now
            )
        await self.hot_reads.changed()
        return self._view(actor, updated)

    async def delete(
        self, uow: UnitOfWork, actor: Actor, user_id: int, expected: Precondition | None = None
    ) -> None:
        actor.require_user_id()
        async with uow.write() as conn:
            repo = UserRepository(conn)
            await require_live_account(conn, actor, hold=False)
            target = _found(actor, user_id, await repo.get(user_id))
            if not (actor.can(Permission.USERS_MANAGE) or actor.is_user(user_id)):
                raise Forbidden("You may only delete your own account")
            require_current(expected, UserOut.of(UserView(target, full=True)))
            await self._guard_last_admin(repo, target, keeps_admin=False)
            now = utcnow()
            unchanged_since = _read_at(expected, target)
            if not await repo.soft_delete(user_id, now, unchanged_since=unchanged_since):
                if unchanged_since is not None and await repo.get(user_id) is not None:
                    raise PreconditionFailed()  # changed meanwhile, by someone else
                raise _gone(actor, user_id)  # deleted meanwhile, by someone else
            ended = await self.sessions.end_account_sessions(conn, user_id, now)
            await self.events.record(conn, payloads.user_deleted(user_id), now)
        await self.sessions.forget_sessions(ended)
        await self.hot_reads.changed()
        log.info("user_deleted", target_user_id=user_id)

    async def _guard_last_admin(
        self, repo: UserRepository, target: UserRecord, *, keeps_admin: bool
    ) -> None:
        if Role.ADMIN in target.roles and not keeps_admin and await repo.count_live_admins() <= 1:
            raise Conflict("This is the last admin; make another admin first")

    def _view(self, actor: Actor, user: UserRecord) -> UserView:
        return UserView(user, full=actor.is_user(user.id) or actor.can(Permission.USERS_MANAGE))


def _read_at(expected: Precondition | None, target: UserRecord) -> datetime | None:
    """The version a conditional change was checked against; None for an unconditional one."""
    return None if expected is None else target.updated_at


async def require_live_account(conn: Connection, actor: Actor, *, hold: bool = True) -> int:
    """The actor's user id, once their account is seen live inside the caller's write
    transaction, and with `hold` held so to its end (see `UserRepository.lock_live`).

    The bearer token was checked before the transaction began; an account deleted since then
    is a request whose principal is gone: 401, and the transaction writes nothing. Changes to
    users pass `hold=False`: they lock user rows for update themselves (the last-admin guard),
    and a shared lock taken first would let two admins acting on each other deadlock.
    """
    user_id = actor.require_user_id()
    if not await UserRepository(conn).lock_live(user_id, hold=hold):
        raise AuthenticationFailed(SESSION_ENDED)
    return user_id


async def require_verified_email(conn: Connection, user_id: int) -> None:
    """EMAIL_VERIFICATION_REQUIRED: unverified accounts sign in and read, but write no posts."""
    if not await UserRepository(conn).is_verified(user_id):
        raise Forbidden(EMAIL_NOT_VERIFIED)


def _found(actor: Actor, user_id: int, user: UserRecord | None) -> UserRecord:
    """The target of a change, read inside its transaction. Gone: 404, or 401 when it is the
    actor's own account (deleted meanwhile, so the request's principal is gone too)."""
    if user is None:
        raise _gone(actor, user_id)
    return user


def _gone(actor: Actor, user_id: int) -> AppError:
    return (
        AuthenticationFailed(SESSION_ENDED) if actor.is_user(user_id) else NotFound(USER_NOT_FOUND)
    )
