"""Rules of accounts by email (docs/api.md, "Accounts by email"): who may ask for which mail,
how often, what a token does when it comes back. Every mail is a job written in the transaction
of the change that causes it; the worker sends it (jobs/worker.py)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from pressroom.accounts.models import LINK_PATHS, TokenPurpose
from pressroom.accounts.repository import EmailTokenRepository
from pressroom.auth.actor import SESSION_ENDED, Actor
from pressroom.auth.repository import SessionRepository
from pressroom.auth.revocations import RevokedSessions
from pressroom.config import Settings
from pressroom.db.connection import Connection
from pressroom.db.units import UnitOfWork
from pressroom.jobs.models import MAIL_RETRIES, QUICK_RETRIES, LeaseLost, SettleJob
from pressroom.jobs.repository import JobRepository
from pressroom.kit.client_address import ClientInfo
from pressroom.kit.clock import utcnow
from pressroom.kit.email_addresses import normalise_email
from pressroom.kit.errors import AuthenticationFailed, Conflict, RateLimited, ValidationFailed
from pressroom.kit.observability import Metrics, get_logger
from pressroom.kit.passwords import PasswordHasher, password_problems
from pressroom.kit.ratelimit import RateLimits
from pressroom.kit.tokens import email_token, email_token_digest, new_email_token_seed
from pressroom.users.repository import EmailTaken, UserRepository

log = get_logger("pressroom.security")
MAIL_JOB = "mail"
PASSWORD_RESET_JOB = "password_reset"
INVALID_TOKEN = "is invalid or has expired"
ALREADY_VERIFIED = "The email address is already verified"
EMAIL_TAKEN = "An account with this email already exists"
SAME_EMAIL = "is already the account's address"
TOO_MANY_RESETS = "Too many password reset requests from this address; retry later"
TOO_MANY_VERIFICATIONS = "Too many verification mails for this account; retry later"


class AccountService:
    def __init__(
        self,
        hasher: PasswordHasher,
        settings: Settings,
        metrics: Metrics,
        limits: RateLimits,
        revoked: RevokedSessions,
    ) -> None:
        self.hasher = hasher
        self.settings = settings
        self.metrics = metrics
        self.limits = limits
        self.revoked = revoked

    # In a caller's transaction -----------------------------------------------------------

    async def queue_verification(
        self, conn: Connection, user_id: int, email: str, now: datetime
    ) -> None:
        """A verification token and its mail, in the caller's transaction (sign-up's)."""
        seed = await self._issue(conn, user_id, TokenPurpose.VERIFY_EMAIL, email, now)
        await self._queue_mail(conn, "verify_email", email, {"email": email}, now, seed=seed)

    async def _issue(
        self,
        conn: Connection,
        user_id: int,
        purpose: TokenPurpose,
        email: str,
        now: datetime,
    ) -> tuple[str, TokenPurpose]:
        seed = new_email_token_seed()
        digest = email_token_digest(email_token(self.settings.signing_secret, seed))
        await EmailTokenRepository(conn).add(
            user_id=user_id, purpose=purpose, digest=digest, email=email, now=now
        )
        return seed, purpose

    async def _queue_mail(
        self,
        conn: Connection,
        template: str,
        to: str,
        context: dict[str, Any],
        now: datetime,
        *,
        seed: tuple[str, TokenPurpose] | None = None,
    ) -> None:
        payload: dict[str, Any] = {"template": template, "to": to, "context": context}
        if seed is not None:
            payload["token_seed"], purpose = seed
            payload["link_path"] = LINK_PATHS[purpose]
        await JobRepository(conn).enqueue(MAIL_JOB, payload, now, MAIL_RETRIES)

    # Verification -------------------------------------------------------------------------

    async def request_verification(self, uow: UnitOfWork, actor: Actor) -> None:
        user_id = actor.require_user_id()
        async with uow.read() as conn:
            user = await UserRepository(conn).get(user_id)
        if user is None:
            raise AuthenticationFailed(SESSION_ENDED)
        if user.email_verified:
            raise Conflict(ALREADY_VERIFIED)
        await self.limits.hit(
            self.limits.policies.verification_per_account,
            str(user_id),
            message=TOO_MANY_VERIFICATIONS,
        )
        async with uow.write() as conn:
            users = UserRepository(conn)
            if not await users.lock_live(user_id):
                raise AuthenticationFailed(SESSION_ENDED)
            current = await users.get(user_id)
            assert current is not None
            if current.email_verified:
                raise Conflict(ALREADY_VERIFIED)
            await self.queue_verification(conn, user_id, current.email, utcnow())
        log.info("verification_requested", target_user_id=user_id)

    async def verify_email(self, uow: UnitOfWork, token: str) -> None:
        now = utcnow()
        async with uow.write() as conn:
            redeemed = await EmailTokenRepository(conn).redeem(
                email_token_digest(token), TokenPurpose.VERIFY_EMAIL, now
            )
            if redeemed is None or not await UserRepository(conn).mark_verified(
                redeemed.user_id, redeemed.email, now
            ):
                raise ValidationFailed.on("token", INVALID_TOKEN)
        self.metrics.count("email_verified")
        log.info("email_verified", target_user_id=redeemed.user_id)

    # Password reset -----------------------------------------------------------------------

    async def request_password_reset(self, uow: UnitOfWork, email: str, client: ClientInfo) -> None:
        """The same answer and the same work whether or not the account exists: the request
        only queues a job naming the address (one INSERT either way); the worker looks the
        account up, and mails only a live one (`issue_password_reset`)."""
        policies = self.limits.policies
        await self.limits.hit(
            policies.password_reset_per_address, client.address, message=TOO_MANY_RESETS
        )
        address = normalise_email(email)
        try:
            await self.limits.hit(policies.password_reset_per_email, _email_key(address))
        except RateLimited:
            # Dropped, not refused: a 429 here would differ between known and unknown emails
            # only in timing, but it would still say the address was asked about before.
            log.info("password_reset_dropped", reason="per_email_limit")
            return
        async with uow.write() as conn:
            await JobRepository(conn).enqueue(
                PASSWORD_RESET_JOB, {"email": address}, utcnow(), QUICK_RETRIES
            )

    async def issue_password_reset(self, uow: UnitOfWork, email: str, settle: SettleJob) -> None:
        """The worker's half of a reset request: for a live account, void its older reset
        tokens, issue a new one and queue its mail; for none, nothing. The job is settled in
        the same transaction, so a worker killed meanwhile leaves either all or none of it."""
        now = utcnow()
        async with uow.write() as conn:
            credentials = await UserRepository(conn).credentials_by_email(email)
            if credentials is not None:
                user_id, stored_email, _ = credentials
                await EmailTokenRepository(conn).void(user_id, TokenPurpose.RESET_PASSWORD, now)
                seed = await self._issue(
                    conn, user_id, TokenPurpose.RESET_PASSWORD, stored_email, now
                )
                await self._queue_mail(
                    conn, "reset_password", stored_email, {"email": stored_email}, now, seed=seed
                )
            if not await settle(conn):
                raise LeaseLost
        if credentials is not None:
            log.info("password_reset_issued", target_user_id=credentials[0])

    async def reset_password(self, uow: UnitOfWork, token: str, new_password: str) -> None:
        """Every failing field at once; a refused request leaves its token usable."""
        digest = email_token_digest(token)
        async with uow.read() as conn:
            usable = await EmailTokenRepository(conn).usable(
                digest, TokenPurpose.RESET_PASSWORD, utcnow()
            )
        problems: dict[str, list[str]] = {}
        if not usable:
            problems["token"] = [INVALID_TOKEN]
        rule = password_problems(new_password, self.settings.password_policy)
        if rule:
            problems["newPassword"] = list(rule)
        if problems:
            raise ValidationFailed(details=problems)
        async with uow.released() as no_connection:
            new_hash = await self.hasher.hash(no_connection, new_password)
        async with uow.write() as conn:
            now = utcnow()
            tokens = EmailTokenRepository(conn)
            redeemed = await tokens.redeem(digest, TokenPurpose.RESET_PASSWORD, now)
            if redeemed is None:  # spent or voided by a concurrent request meanwhile
                raise ValidationFailed.on("token", INVALID_TOKEN)
            user_id = redeemed.user_id
            await UserRepository(conn).set_password_hash(user_id, new_hash, now, verified=True)
            await tokens.void(user_id, TokenPurpose.RESET_PASSWORD, now)
            ended = await SessionRepository(conn).revoke_all(user_id, now, reason="password_reset")
        await self.revoked.add(ended)
        self.metrics.count("password_reset")
        log.info("password_reset", target_user_id=user_id, sessions_ended=len(ended))

    # Email change -------------------------------------------------------------------------

    async def request_email_change(
        self, uow: UnitOfWork, actor: Actor, new_email: str, current_password: str
    ) -> None:
        user_id = actor.require_user_id()
        async with uow.read() as conn:
            users = UserRepository(conn)
            stored_hash = await users.password_hash(user_id)
            user = await users.get(user_id)
        async with uow.released() as no_connection:
            matches, _ = await self.hasher.verify(no_connection, current_password, stored_hash)
        if user is None:
            raise AuthenticationFailed(SESSION_ENDED)
        if not matches:
            raise ValidationFailed.on("currentPassword", "is incorrect")
        if normalise_email(user.email) == new_email:
            raise ValidationFailed.on("newEmail", SAME_EMAIL)
        async with uow.write() as conn:
            users = UserRepository(conn)
            if not await users.lock_live(user_id):
                raise AuthenticationFailed(SESSION_ENDED)
            if await users.email_taken(new_email):
                raise Conflict(EMAIL_TAKEN, {"newEmail": [EMAIL_TAKEN]})
            now = utcnow()
            seed = await self._issue(conn, user_id, TokenPurpose.CHANGE_EMAIL, new_email, now)
            context = {"email": user.email, "new_email": new_email}
            await self._queue_mail(conn, "confirm_email_change", new_email, context, now, seed=seed)
            await self._queue_mail(conn, "email_change_notice", user.email, context, now)
        log.info("email_change_requested", target_user_id=user_id)

    async def confirm_email_change(self, uow: UnitOfWork, token: str) -> None:
        now = utcnow()
        try:
            async with uow.write() as conn:
                redeemed = await EmailTokenRepository(conn).redeem(
                    email_token_digest(token), TokenPurpose.CHANGE_EMAIL, now
                )
                if redeemed is None:
                    raise ValidationFailed.on("token", INVALID_TOKEN)
                users = UserRepository(conn)
                if await users.email_taken(redeemed.email):
                    raise Conflict(EMAIL_TAKEN)
                await users.change_email(redeemed.user_id, redeemed.email, now)
        except EmailTaken:
            # Taken by a sign-up that committed between the check and the change.
            raise Conflict(EMAIL_TAKEN) from None
        log.info("email_changed", target_user_id=redeemed.user_id)

    # The worker's mail ---------------------------------------------------------------------

    def mail_token_and_link(self, seed: str, link_path: str) -> tuple[str, str]:
        token = email_token(self.settings.signing_secret, seed)
        return token, f"{self.settings.email_link_base_url}{link_path}?token={token}"


def _email_key(address: str) -> str:
    """Throttle counters name addresses by a digest, so no email sits in Redis."""
    return hashlib.sha256(address.encode()).hexdigest()[:32]
