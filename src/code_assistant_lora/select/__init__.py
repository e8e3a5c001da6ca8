"""Changed-file test selection: signals, safety rules, framework detection and the runner.

The public API: `collect` a change, `select_tests` for it (each `SelectedTest` with its reason),
`run_tests` for the `code-assistant test` command. See docs/test-selection.md for the algorithm.
"""

from .change import Change, ChangedFile, collect
from .command import TestOutcome, TestRequest, run_tests
from .engine import SelectedTest, Selection, select_tests

__all__ = [
    "Change",
    "ChangedFile",
    "SelectedTest",
    "Selection",
    "TestOutcome",
    "TestRequest",
    "collect",
    "run_tests",
    "select_tests",
]
