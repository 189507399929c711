"""Who may use the workspace, and what a page on another site may not do.

- **Bind.** Loopback (127.0.0.1, ::1, localhost) by default. Any other address needs
  credentials from the environment, checked at start by :func:`check_bind`:
  ``REPRICER_WEB_PASSWORD_HASH`` (an scrypt hash made by ``repricer serve
  --hash-password``; HTTP Basic, the user name is recorded as the reviewer) and/or
  ``REPRICER_WEB_TOKEN`` (``Authorization: Bearer <token>``, or as the Basic password).
  Credentials, once set, are required on loopback too.
- **CSRF.** Every state change is a POST carrying a token that is the HMAC of a random
  ``SameSite=Strict`` cookie under a per-process key (:class:`CsrfGuard`); a POST whose
  ``Origin`` is another site, or that ``Sec-Fetch-Site`` marks cross-site, is refused
  before its form is read.
- **Headers.** A strict Content-Security-Policy (scripts and styles only from our own
  ``/static``), no framing, no sniffing, no referrer to other sites.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from repricer.exceptions import ConfigError

PASSWORD_ENV = "REPRICER_WEB_PASSWORD_HASH"
TOKEN_ENV = "REPRICER_WEB_TOKEN"
CSRF_COOKIE = "repricer_csrf"
CSRF_FIELD = "csrf"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
}
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64) for ``REPRICER_WEB_PASSWORD_HASH``."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a :func:`hash_password` string (constant time)."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


@dataclass(frozen=True)
class Credentials:
    """What the environment allows in; both None means no authentication."""

    password_hash: str | None = None
    token: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Credentials:
        env = os.environ if env is None else env
        stored = env.get(PASSWORD_ENV) or None
        if stored and not stored.startswith("scrypt$"):
            raise ConfigError(
                f"{PASSWORD_ENV} is not a password hash; make one with `repricer serve --hash-password`"
            )
        return cls(stored, env.get(TOKEN_ENV) or None)

    @property
    def required(self) -> bool:
        return bool(self.password_hash or self.token)

    def check_basic(self, user: str, password: str) -> bool:
        if self.token and hmac.compare_digest(password.encode(), self.token.encode()):
            return True
        return bool(self.password_hash) and verify_password(password, self.password_hash or "")

    def check_bearer(self, token: str) -> bool:
        return bool(self.token) and hmac.compare_digest(token.encode(), (self.token or "").encode())

    def user_for(self, authorization: str | None) -> str | None:
        """The reviewer named by an ``Authorization`` header, or None when it is not valid."""
        if not authorization:
            return None
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and self.check_bearer(value.strip()):
            return "token"
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(value.strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return (user or "web") if self.check_basic(user, password) else None


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, credentials: Credentials) -> None:
    """Refuse to listen beyond loopback without credentials (ConfigError naming the
    variables to set)."""
    if is_loopback(host) or credentials.required:
        return
    raise ConfigError(
        f"refusing to serve on {host} without credentials: set {PASSWORD_ENV} "
        f"(from `repricer serve --hash-password`) or {TOKEN_ENV}, or bind to 127.0.0.1"
    )


class CsrfGuard:
    """Tokens bound to the browser's CSRF cookie by an HMAC under a per-process key."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    @staticmethod
    def new_cookie() -> str:
        return secrets.token_urlsafe(32)

    def token_for(self, cookie: str) -> str:
        return hmac.new(self._key, cookie.encode(), hashlib.sha256).hexdigest()

    def valid(self, cookie: str | None, token: str | None) -> bool:
        if not cookie or not token:
            return False
        return hmac.compare_digest(self.token_for(cookie), token)


def cross_site(headers: Mapping[str, str], own_origin: str) -> bool:
    """Whether a request comes from another site, by ``Sec-Fetch-Site`` or ``Origin``."""
    if headers.get("sec-fetch-site", "").lower() == "cross-site":
        return True
    origin = headers.get("origin")
    return origin is not None and origin.rstrip("/") != own_origin
