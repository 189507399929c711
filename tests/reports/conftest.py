"""A report scene (market, an older pushed run, the run to report on) and its built report."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from repricer.reports import Report, build_report
from tests.reports.factory import add_report_scene


@pytest.fixture
def scene(engine: Engine) -> int:
    """The id of the run to report on."""
    return add_report_scene(engine)


@pytest.fixture
def report(engine: Engine, scene: int) -> Report:
    return build_report(engine, scene)
