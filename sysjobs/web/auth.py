"""Bearer-token authentication with two roles, and a read-only mode.

The admin token may read and change jobs and run scripts; the read token may only read.
``read_only`` turns every change into 403 whatever the token. There is always a token:
``sysjobs serve`` makes a random one when none is configured, so no endpoint — above all
none that runs scripts — is ever open without authentication. The HTML pages and static
files carry no data and need no token, nor does ``/health``; every ``/api`` route does,
the OpenAPI document included, and so does ``/metrics``. File downloads need the admin
token itself (:func:`require_admin_token`; the rule and why is in
:mod:`sysjobs.web.scripts`): a ``fileLink`` holds no secret of its own.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from starlette.requests import Request

from sysjobs.web.errors import ApiError


class Role(StrEnum):
    """What a caller may do."""

    #: Read jobs, logs and stats.
    READ = "read"
    #: Also stop/resume/cancel jobs and run scripts.
    ADMIN = "admin"


@dataclass(frozen=True)
class AuthConfig:
    """Who gets in: the admin token, an optional read-only token, and the read-only switch;
    and tokens of one app each (``app_tokens``: token -> app key).

    The admin and read tokens are the operator's: they reach every app the dashboard
    serves. An app's token is an admin token of that app only: another app's requests
    answer 403, and its jobs are not there.
    """

    token: str
    read_token: str | None = None
    read_only: bool = False
    app_tokens: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.token:
            raise ValueError("the dashboard needs a non-empty token")

    def role_of(self, presented: str | None) -> Role | None:
        """The role a presented token grants (compared in constant time)."""
        if not presented:
            return None
        if hmac.compare_digest(presented.encode(), self.token.encode()):
            return Role.READ if self.read_only else Role.ADMIN
        if self.read_token and hmac.compare_digest(presented.encode(), self.read_token.encode()):
            return Role.READ
        if self.app_of(presented) is not None:
            return Role.READ if self.read_only else Role.ADMIN
        return None

    def app_of(self, presented: str | None) -> str | None:
        """The app a presented app token is for (None: not an app token)."""
        found = None
        for token, key in self.app_tokens.items():  # every one compared: constant time
            if presented and hmac.compare_digest(presented.encode(), token.encode()):
                found = key
        return found

    def is_admin_token(self, presented: str | None) -> bool:
        """Whether ``presented`` is the admin token (read-only mode or not)."""
        return bool(presented) and hmac.compare_digest(str(presented).encode(),
                                                       self.token.encode())  # fmt: skip


def bearer(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer …`` header."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def require(request: Request, *, write: bool = False) -> Role:
    """The caller's role, or 401 (no/unknown token) / 403 (a change with a read-only role)."""
    config: AuthConfig = request.app.state.auth
    role = config.role_of(bearer(request))
    if role is None:
        raise ApiError(401, "unauthorized", "A valid bearer token is required")
    if write and role is not Role.ADMIN:
        why = "the dashboard runs read-only" if config.read_only else "the token is read-only"
        raise ApiError(403, "forbidden", f"This operation changes data, and {why}")
    return role


def require_app(request: Request, key: str) -> None:
    """403 when the caller's token is another app's (an operator token reaches every app)."""
    config: AuthConfig = request.app.state.auth
    own = config.app_of(bearer(request))
    if own is not None and own != key:
        raise ApiError(403, "forbidden", f"This token is app '{own}''s; it reaches no other app")


def require_admin_token(request: Request) -> None:
    """401 without a known token; 403 unless it is the admin token (files: exports of
    records and users are for the admin token only, read-only mode or not)."""
    config: AuthConfig = request.app.state.auth
    presented = bearer(request)
    if config.role_of(presented) is None:
        raise ApiError(401, "unauthorized", "A valid bearer token is required")
    if not config.is_admin_token(presented):
        raise ApiError(403, "forbidden", "Files hold exported records and users: "
                       "only the admin token may download them")  # fmt: skip
