"""Sign-in, access-token checks, refresh-token rotation (RFC 9700 §4.14), sessions, passwords."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from pressroom.auth.actor import SESSION_ENDED, Actor
from pressroom.auth.models import PresentedRefreshToken, SessionRecord, TokenPair
from pressroom.auth.repository import SessionRepository
from pressroom.auth.revocations import RevokedSessions
from pressroom.config import Settings
from pressroom.db.connection import Connection
from pressroom.db.units import UnitOfWork
from pressroom.kit.client_address import ClientInfo
from pressroom.kit.clock import utcnow
from pressroom.kit.email_addresses import normalise_email
from pressroom.kit.errors import AuthenticationFailed, NotFound, ValidationFailed
from pressroom.kit.observability import Metrics, get_logger
from pressroom.kit.passwords import PasswordHasher, password_problems
from pressroom.kit.ratelimit import RateLimits
from pressroom.kit.tokens import AccessTokens, new_refresh_token, refresh_token_digest
from pressroom.users.repository import UserRepository

log = get_logger("pressroom.security")
INVALID_CREDENTIALS = "Invalid email or password"
INVALID_REFRESH_TOKEN = "Invalid or expired refresh token"
TOO_MANY_LOGINS = "Too many sign-in attempts from this address; retry later"
TOO_MANY_FAILED_LOGINS = "Too many failed sign-ins for this account; retry later"
TOO_MANY_REFRESHES = "Too many token refreshes from this address; retry later"


class AuthService:
    def __init__(
        self,
        hasher: PasswordHasher,
        tokens: AccessTokens,
        settings: Settings,
        metrics: Metrics,
        limits: RateLimits,
        revoked: RevokedSessions,
    ) -> None:
        self.hasher = hasher
        self.tokens = tokens
        self.settings = settings
        self.metrics = metrics
        self.limits = limits
        self.revoked = revoked

    async def authenticate(self, uow: UnitOfWork, access_token: str) -> Actor:
        """The actor behind a bearer token; refused as soon as its session has ended."""
        claims = self.tokens.verify(access_token)
        if await self.revoked.contains(claims.session_id):
            raise AuthenticationFailed(SESSION_ENDED)
        async with uow.read() as conn:
            principal = await SessionRepository(conn).principal(claims.session_id, utcnow())
        if principal is None or not principal.live or principal.user_id != claims.user_id:
            raise AuthenticationFailed(SESSION_ENDED)
        return Actor.signed_in(claims.user_id, claims.session_id, principal.email, principal.roles)

    async def login(
        self, uow: UnitOfWork, email: str, password: str, client: ClientInfo
    ) -> TokenPair:
        """Sign in, throttled per address and per account (docs/api.md).

        Each attempt reserves one failure of the account's allowance before the password is
        checked, so concurrent guesses cannot overrun it; a success gives it back. An address
        that has signed in to the account before draws on an allowance of its own, so a
        stranger's failures cannot lock the owner out.
        """
        policies = self.limits.policies
        await self.limits.hit(policies.login_per_address, client.address, message=TOO_MANY_LOGINS)
        known_address = False
        async with uow.read() as conn:
            credentials = await UserRepository(conn).credentials_by_email(email)
            if self.limits.enabled and client.ip is not None:
                known_address = await SessionRepository(conn).signed_in_from(email, client.ip)
        # Unknown emails have an allowance too, so a 429 does not tell which accounts exist.
        failures = (
            (_account_key(email), client.address) if known_address else (_account_key(email),)
        )
        await self.limits.hit(
            policies.failed_logins_per_account, *failures, message=TOO_MANY_FAILED_LOGINS
        )
        # Unknown emails verify against a dummy hash: the same work, the same answer.
        async with uow.released() as no_connection:
            matches, upgraded_hash = await self.hasher.verify(
                no_connection, password, credentials[2] if credentials else None
            )
        if credentials is None or not matches:
            self.metrics.count("login_failed")
            log.info(
                "login_failed",
                target_user_id=credentials[0] if credentials else None,
                client_ip=client.ip,
            )
            raise AuthenticationFailed(INVALID_CREDENTIALS)
        await self.limits.refund(policies.failed_logins_per_account, *failures)
        user_id, stored_email, _ = credentials
        refresh_token = new_refresh_token()
        now = utcnow()
        async with uow.write() as conn:
            users = UserRepository(conn)
            # Deleted since its credentials were read: the same answer as for an unknown email.
            if not await users.lock_live(user_id):
                raise AuthenticationFailed(INVALID_CREDENTIALS)
            if upgraded_hash is not None:
                await users.set_password_hash(user_id, upgraded_hash, now)
            sessions = SessionRepository(conn)
            session_id = await sessions.start(
                user_id=user_id,
                token_digest=refresh_token_digest(refresh_token),
                now=now,
                expires_at=now + timedelta(seconds=self.settings.refresh_token_ttl_seconds),
                user_agent=client.user_agent,
                ip=client.ip,
            )
            principal = await sessions.principal(session_id, now)
            if principal is None or not principal.live:
                raise AuthenticationFailed(INVALID_CREDENTIALS)
        self.metrics.count("login")
        log.info(
            "login_succeeded", target_user_id=user_id, session_id=session_id, client_ip=client.ip
        )
        return self._pair(user_id, session_id, stored_email, principal.roles, refresh_token)

    async def refresh(self, uow: UnitOfWork, refresh_token: str, client: ClientInfo) -> TokenPair:
        await self.limits.hit(
            self.limits.policies.refresh_per_address, client.address, message=TOO_MANY_REFRESHES
        )
        digest = refresh_token_digest(refresh_token)
        new_token = new_refresh_token()
        async with uow.write() as conn:
            sessions = SessionRepository(conn)
            now = utcnow()
            presented = await sessions.find_token(digest, now)
            if presented is None or not presented.session_live:
                raise AuthenticationFailed(INVALID_REFRESH_TOKEN)
            if presented.rotated_at is None and await sessions.claim_for_rotation(
                presented.token_id, now
            ):
                await sessions.add_rotated(
                    session_id=presented.session_id,
                    parent_id=presented.token_id,
                    token_digest=refresh_token_digest(new_token),
                    now=now,
                    user_agent=client.user_agent,
                    ip=client.ip,
                )
                principal = await sessions.principal(presented.session_id, now)
                if principal is None or not principal.live:
                    # The account was deleted meanwhile: the raise undoes the rotation.
                    raise AuthenticationFailed(INVALID_REFRESH_TOKEN)
                return self._pair(
                    presented.user_id,
                    presented.session_id,
                    principal.email,
                    principal.roles,
                    new_token,
                )
            # Spent already (or a concurrent request spent it first).
            reused = await self._judge_spent(sessions, presented, digest, now)
        await self._report_reuse(presented, reused)
        raise AuthenticationFailed(INVALID_REFRESH_TOKEN)

    async def logout(self, uow: UnitOfWork, refresh_token: str) -> None:
        """End the session of its live refresh token.

        A spent (rotated) token is judged as `refresh` judges it (docs/api.md, RFC 9700 §4.14):
        it is not the holder's credential any more, so it ends no session by right. Presented
        again it means theft and revokes its family, as at /auth/refresh; the direct parent of
        the live token within the grace window changes nothing. Either way the answer is 401,
        never "logged out" (docs/security.md)."""
        digest = refresh_token_digest(refresh_token)
        async with uow.write() as conn:
            sessions = SessionRepository(conn)
            now = utcnow()
            presented = await sessions.find_token(digest, now)
            if presented is None or not presented.session_live:
                raise AuthenticationFailed(INVALID_REFRESH_TOKEN)
            live = presented.rotated_at is None and await sessions.revoke(
                presented.session_id, now, reason="logout"
            )
            reused = False if live else await self._judge_spent(sessions, presented, digest, now)
        if not live:
            await self._report_reuse(presented, reused)
            raise AuthenticationFailed(INVALID_REFRESH_TOKEN)
        await self.revoked.add([presented.session_id])
        log.info("logout", target_user_id=presented.user_id, session_id=presented.session_id)

    async def _judge_spent(
        self,
        sessions: SessionRepository,
        presented: PresentedRefreshToken,
        digest: str,
        now: datetime,
    ) -> bool:
        """Whether a spent refresh token presented again is reuse; reuse revokes its family
        (in the caller's transaction). The direct parent of the family's live token, within
        the grace window, is a concurrent or retried request instead, and changes nothing."""
        spent = await sessions.find_token(digest, now)
        rotated_at = spent.rotated_at if spent is not None else None
        if rotated_at is None:
            # Revoked or rolled back by someone else since: nothing of it is left to judge.
            return False
        grace = timedelta(seconds=self.settings.refresh_reuse_grace_seconds)
        if now - rotated_at <= grace and await sessions.has_unspent_child(presented.token_id):
            return False
        await sessions.revoke(presented.session_id, now, reason="refresh_reuse")
        return True

    async def _report_reuse(self, presented: PresentedRefreshToken, reused: bool) -> None:
        """After the revoking transaction commits: every instance refuses the family now."""
        if reused:
            await self.revoked.add([presented.session_id])
            self.metrics.count("refresh_reuse_detected")
            log.warning(
                "refresh_reuse_detected",
                target_user_id=presented.user_id,
                session_id=presented.session_id,
            )

    async def logout_all(self, uow: UnitOfWork, actor: Actor) -> None:
        user_id = actor.require_user_id()
        async with uow.write() as conn:
            ended = await SessionRepository(conn).revoke_all(user_id, utcnow(), reason="logout_all")
        await self.revoked.add(ended)
        log.info("logout_all", target_user_id=user_id, sessions_ended=len(ended))

    async def sessions(self, uow: UnitOfWork, actor: Actor) -> list[SessionRecord]:
        user_id = actor.require_user_id()
        async with uow.read() as conn:
            return await SessionRepository(conn).live_sessions(user_id, utcnow())

    async def end_session(self, uow: UnitOfWork, actor: Actor, session_id: int) -> None:
        user_id = actor.require_user_id()
        async with uow.write() as conn:
            sessions = SessionRepository(conn)
            now = utcnow()
            # Someone else's session is as unknown to the caller as one that never existed.
            if await sessions.owner_of_live(session_id, now) != user_id:
                raise NotFound("Session not found")
            await sessions.revoke(session_id, now, reason="revoked_by_user")
        await self.revoked.add([session_id])
        log.info("session_revoked", target_user_id=user_id, session_id=session_id)

    async def change_password(self, uow: UnitOfWork, actor: Actor, current: str, new: str) -> None:
        """Ends every other session of the user; the caller's own stays signed in."""
        user_id = actor.require_user_id()
        async with uow.read() as conn:
            stored_hash = await UserRepository(conn).password_hash(user_id)
        async with uow.released() as no_connection:
            matches, _ = await self.hasher.verify(no_connection, current, stored_hash)
            if not matches:
                # 400, not 401: a 401 would send clients to refresh their tokens.
                raise ValidationFailed.on("currentPassword", "is incorrect")
            problems = password_problems(new, self.settings.password_policy)
            if problems:
                raise ValidationFailed(details={"newPassword": problems})
            new_hash = await self.hasher.hash(no_connection, new)
        async with uow.write() as conn:
            now = utcnow()
            await UserRepository(conn).set_password_hash(user_id, new_hash, now)
            ended = await SessionRepository(conn).revoke_all(
                user_id, now, reason="password_changed", keep_session_id=actor.session_id
            )
        await self.revoked.add(ended)
        log.info("password_changed", target_user_id=user_id, sessions_ended=len(ended))

    async def end_account_sessions(
        self, conn: Connection, user_id: int, now: datetime
    ) -> list[int]:
        """Ends every session of an account being deleted, inside the deletion's transaction (a
        rolled-back deletion ends none). `UserService` calls it through `AccountSessions`."""
        return await SessionRepository(conn).revoke_all(user_id, now, reason="account_deleted")

    async def forget_sessions(self, session_ids: list[int]) -> None:
        """Once the ending is committed: their access tokens are refused from now on."""
        await self.revoked.add(session_ids)

    def user_of_token(self, access_token: str) -> int | None:
        """The user a token names, by its signature alone (for per-user rate limits)."""
        try:
            return self.tokens.verify(access_token).user_id
        except AuthenticationFailed:
            return None

    def _pair(
        self,
        user_id: int,
        session_id: int,
        email: str,
        roles: tuple[str, ...],
        refresh_token: str,
    ) -> TokenPair:
        access = self.tokens.issue(
            user_id=user_id, session_id=session_id, email=email, roles=list(roles)
        )
        return TokenPair(access, refresh_token, self.tokens.ttl_seconds)


def _account_key(email: str) -> str:
    """Throttle counters name accounts by a digest, so no email sits in Redis."""
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()[:32]
