"""One-line messages for pydantic validation errors (config and rule files)."""

from __future__ import annotations

from pydantic import ValidationError


def first_error(exc: ValidationError) -> tuple[tuple[int | str, ...], str]:
    """The first error's location and message: ``"unknown key"`` for an extra key, else
    pydantic's message with the offending value (``not a duration: 'soon' (got 'soon')``)."""
    error = exc.errors()[0]
    if error["type"] == "extra_forbidden":
        return tuple(error["loc"]), "unknown key"
    message = error["msg"].removeprefix("Value error, ")
    if "input" in error and not isinstance(error["input"], dict | list):
        message += f" (got {error['input']!r})"
    return tuple(error["loc"]), message
