"""Secrets out of every output: one helper for logs, CLI text, JSON, stored errors, reports.

:func:`redact` masks, anywhere in a text:

- the userinfo of a URL (``https://user:pass@host`` -> ``https://user:***@host``; a
  userinfo without a password may itself be a token and is masked whole);
- query parameters named like a secret (``token``, ``api_key``, ``secret``,
  ``password``, ``signature``, ``auth``... -> ``token=***``);
- ``password=...`` pairs of libpq-style DSNs;
- every value registered with :func:`register_secret` (the environment secrets repricer
  reads), wherever it appears.

Masking is idempotent and leaves the rest of the text as it was.
"""

from __future__ import annotations

import logging
import re
from typing import Any

MASK = "***"
_SECRET_NAME = (
    r"[\w.\-]*(?:token|key|secret|passw(?:or)?d|pwd|signature|sig|auth|credential|session)[\w.\-]*"
)
# scheme://userinfo@ : the userinfo stops at the first / ? # or whitespace.
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<info>[^\s/?#@]+)@")
_QUERY = re.compile(rf"(?P<name>[?&;](?:{_SECRET_NAME}))=(?P<value>[^&#\s'\"]*)", re.IGNORECASE)
_DSN = re.compile(
    r"(?P<name>\bpassword\s*=\s*)(?P<value>'(?:[^'\\]|\\.)*'|[^\s'\"]+)", re.IGNORECASE
)
_SHORTEST = 4  # registered values shorter than this would mask ordinary words

_registered: set[str] = set()


def register_secret(value: str | None) -> None:
    """Mask ``value`` in everything :func:`redact` sees from now on (process-wide)."""
    if value and len(value) >= _SHORTEST:
        _registered.add(value)


def redact(text: str) -> str:
    """``text`` with URL credentials, secret query parameters, DSN passwords and
    registered secret values replaced by ``***``."""
    if not text:
        return text
    for secret in sorted(_registered, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    if "@" in text:
        text = _USERINFO.sub(_mask_userinfo, text)
    if "=" in text:
        text = _QUERY.sub(lambda m: f"{m['name']}={MASK}" if m["value"] else m[0], text)
        text = _DSN.sub(lambda m: f"{m['name']}{MASK}", text)
    return text


def redact_value(value: Any) -> Any:
    """:func:`redact` applied to every string inside ``value`` (dicts, lists, tuples)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_value(v) for v in value)
    return value


def _mask_userinfo(match: re.Match[str]) -> str:
    user, sep, password = match["info"].partition(":")
    if sep and password != MASK:
        return f"{match['scheme']}{user}:{MASK}@"
    if not sep and user != MASK:
        return f"{match['scheme']}{MASK}@"
    return match[0]


class RedactingFilter(logging.Filter):
    """A logging filter that redacts each record's final message (arguments merged)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            # Formatters print exc_text as it is when it is already set.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Put a :class:`RedactingFilter` on every handler of ``logger`` (default: root)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
