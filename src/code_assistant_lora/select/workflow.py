"""Test selection as one function per surface: the pytest plugin's selection and the
`code-assistant test` command (detect, select, plan, run, report)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from .change import Change, collect
from .engine import Selection


def select_for_pytest(
    rootdir: str | os.PathLike, base: str | None = None, staged: bool = False
) -> tuple[Change, Selection]:
    """The change and the selection `pytest --changed-only` applies."""
    from . import coverage_map
    from .cache import SummaryCache
    from .engine import select_tests
    from .frameworks import pytest_settings

    change = collect(rootdir, base=base, staged=staged)
    settings = pytest_settings(change.read)
    recorded, note = coverage_map.load(change.root, change.base_commit)
    selection = select_tests(
        change, settings, coverage=recorded, cache=SummaryCache(Path(change.root))
    )
    if note:
        selection = replace(selection, notes=(*selection.notes, note))
    return change, selection
