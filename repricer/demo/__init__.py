"""The end-to-end demo: loopback competitor shops and supplier feeds, demo data, and
:func:`run_demo`, which runs every stage of the product against them."""

from __future__ import annotations

from repricer.demo.pipeline import DemoResult, run_demo

__all__ = ["DemoResult", "run_demo"]
