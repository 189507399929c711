"""``repricer serve``: the catalog manager's workspace (queue, product, health, runs).

:func:`serve` checks the bind address against the credentials in the environment and
runs the app (:func:`repricer.web.app.create_app`) under uvicorn.
"""

from __future__ import annotations

from repricer.web.server import serve

__all__ = ["serve"]
