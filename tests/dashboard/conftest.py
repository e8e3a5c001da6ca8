"""Fixtures for the dashboard tests (the builders live in dashboard_fixtures.py, importable by
name: a module called `conftest` would shadow the suite's root conftest)."""

from __future__ import annotations

from dashboard_fixtures import curated  # noqa: F401  (registers the fixture)
