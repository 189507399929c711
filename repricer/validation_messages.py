"""One-line messages for pydantic validation errors (config and rule files); a file's
errors are all reported at once, one line each."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


def first_error(exc: ValidationError) -> tuple[tuple[int | str, ...], str]:
    """The first error's location and message: ``"unknown key"`` for an extra key, else
    pydantic's message with the offending value (``not a duration: 'soon' (got 'soon')``)."""
    return all_errors(exc)[0]


def all_errors(exc: ValidationError) -> list[tuple[tuple[int | str, ...], str]]:
    """Every error's location and message, as :func:`first_error` words them."""
    return [_error(error) for error in exc.errors()]


def _error(error: Any) -> tuple[tuple[int | str, ...], str]:
    if error["type"] == "extra_forbidden":
        return tuple(error["loc"]), "unknown key"
    message = error["msg"].removeprefix("Value error, ")
    if "input" in error and not isinstance(error["input"], dict | list):
        message += f" (got {error['input']!r})"
    return tuple(error["loc"]), message
