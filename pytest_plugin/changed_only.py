"""`pytest --changed-only`: run only the tests the change can affect.

The selection is computed once per process from the change (the working tree against
`--changed-base`, default the merge base with the upstream branch or origin/main, else HEAD; or
the index with `--changed-staged`) and applied in `pytest_collection_modifyitems` through pytest's
own deselection (`pytest_deselected` plus `items[:]`), so `-k`, `-m`, `--lf` and xdist's `-n`
keep working. When nothing is selected but Python modules changed, one item still imports them,
so a change that breaks an import fails the run. `--record-coverage` (recording.py) records the
coverage map that later runs may use to narrow a selection.
"""

from __future__ import annotations

import os
from fnmatch import fnmatch
from pathlib import Path

import pytest

NAME = "code-assistant-changed-only"


def add_options(group) -> None:
    group.addoption(
        "--changed-only",
        action="store_true",
        help="Run only the tests the change can affect (working tree against --changed-base); "
        "the rest are deselected, with the reasons shown under -v.",
    )
    group.addoption(
        "--changed-base",
        metavar="REF",
        help="Compare against the merge base with REF (default: the upstream branch, else "
        "origin/main, else HEAD).",
    )
    group.addoption(
        "--changed-staged",
        action="store_true",
        help="Select for the staged change (the index against HEAD) instead of the working tree.",
    )
    group.addoption(
        "--record-coverage",
        action="store_true",
        help="Record which test ran which lines into .code-assistant/coverage/ (keyed by HEAD) "
        "so later --changed-only runs can narrow function-body changes.",
    )


def wanted(config: pytest.Config) -> bool:
    option = config.getoption
    return bool(option("changed_only") or option("changed_staged")) or bool(option("changed_base"))


class ImportCheck(pytest.Item):
    """Imports the changed modules when no test was selected: a change that breaks an import
    must not pass silently."""

    def __init__(
        self, *, modules: tuple[str, ...], roots: tuple[str, ...], before: dict, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self.modules = modules
        self.roots = roots
        self.before = before  # module -> what it imported before the change

    def runtest(self) -> None:
        import importlib
        import sys

        for root in self.roots:  # as pytest's rootdir-relative insertion would for a test file
            if root not in sys.path:
                sys.path.insert(0, root)
        for module in self.modules:
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as exc:
                missing = (exc.name or "").split(".")[0]
                if missing in self.before.get(module, ()):
                    # e.g. a Windows-only module on Linux: it did not import before either
                    pytest.skip(f"import {module}: {missing} was missing before the change too")
                pytest.fail(f"import {module} failed: {type(exc).__name__}: {exc}", pytrace=False)
            except Exception as exc:  # whatever the import raises is the finding
                pytest.fail(f"import {module} failed: {type(exc).__name__}: {exc}", pytrace=False)

    def reportinfo(self):
        return self.path, None, f"import {', '.join(self.modules)}"


class ChangedOnly:
    """Selection, deselection and reporting for one pytest process (controller or worker)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.selection = None
        self.change = None
        self.root: Path | None = None
        self.reasons: dict[str, str] = {}
        self.deselected = 0
        self.not_collected = 0
        self.checks = 0

    # --- selection ----------------------------------------------------------------------

    def _select(self):
        from code_assistant_lora.errors import UserError
        from code_assistant_lora.select.workflow import select_for_pytest

        option = self.config.getoption
        if option("changed_staged") and option("changed_base"):
            raise pytest.UsageError("--changed-only: choose --changed-base or --changed-staged")
        try:
            self.change, self.selection = select_for_pytest(
                self.config.rootpath, base=option("changed_base"), staged=option("changed_staged")
            )
        except UserError as exc:
            raise pytest.UsageError(f"--changed-only: {exc.message}") from None
        self.root = self.change.root

    def _relative(self, path) -> str | None:
        try:
            return Path(os.path.realpath(path)).relative_to(os.path.realpath(self.root)).as_posix()
        except ValueError:
            return None

    def reason(self, item: pytest.Item) -> str | None:
        selection = self.selection
        rel = self._relative(item.path)
        if rel is None:
            return "outside the repository"
        function = getattr(item, "function", None)
        if function is None:
            found = selection.match(rel)
            if found:
                return found
            if rel in {f.path for f in self.change.files}:
                return "changed"
            if rel in selection.touched_modules:
                return "doctest of an affected module"
            if not rel.endswith(".py") and selection.touched_modules:
                return "not a Python test function: kept while Python code changed"
            return None
        qualname = getattr(function, "__qualname__", item.name).split(".<locals>")[0]
        # the node id's own path (`TestSub.test_x` for a test inherited from a mixin), the
        # function where it is defined, and its class
        names = [item.nodeid.split("::", 1)[-1].split("[", 1)[0].replace("::", "."), qualname]
        cls = getattr(item, "cls", None)
        if cls is not None:
            names.append(cls.__qualname__)
        found = selection.match(rel, names)
        if found:
            return found
        code = getattr(function, "__code__", None)
        defined = self._relative(code.co_filename) if code is not None else None
        if defined and defined != rel:
            return selection.match(defined, [qualname])
        return None

    def pytest_ignore_collect(self, collection_path: Path, config: pytest.Config):
        """A test file with nothing selected is not even imported: collecting it is most of what
        a small selection would otherwise cost."""
        if not config.getoption("changed_only") or collection_path.suffix != ".py":
            return None
        patterns = config.getini("python_files")
        if collection_path.name == "conftest.py" or not any(
            fnmatch(collection_path.name, pattern) for pattern in patterns
        ):
            return None
        if self.selection is None:
            self._select()
        rel = self._relative(collection_path)
        if rel is None or self.selection.selects_in(rel):
            return None
        if rel in {f.path for f in self.change.files}:
            return None
        self.not_collected += 1
        return True

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session, config, items) -> None:
        if not config.getoption("changed_only"):
            return
        if self.selection is None:
            self._select()
        selected, deselected = [], []
        for item in items:
            why = self.reason(item)
            if why is None:
                deselected.append(item)
            else:
                selected.append(item)
                self.reasons[item.nodeid] = why
        if deselected:
            config.hook.pytest_deselected(items=deselected)
            items[:] = selected
        self.deselected = len(deselected)
        # An import that fails must fail the run even when no selected test imports the module.
        modules = self.selection.import_changed if selected else self.selection.import_checks
        if modules:
            roots = tuple(str(self.root / r) for r in self.selection.import_roots)
            check = ImportCheck.from_parent(
                session,
                name="changed-only-import-check",
                modules=modules,
                roots=roots,
                before=dict(self.selection.imported_before),
            )
            items.append(check)
            self.reasons[check.nodeid] = (
                "imports changed: the changed modules must still import"
                if selected
                else "nothing selected: the changed modules must still import"
            )
            self.checks = 1

    def pytest_report_header(self, config):
        if config.getoption("changed_only") and getattr(config.option, "numprocesses", None):
            return ["changed-only: each xdist worker selects; see the item count above"]
        return None

    def pytest_report_collectionfinish(self, config, start_path, items):
        if self.selection is None:
            return None
        kept = len(items) - self.checks
        lines = [f"{kept} selected, {self.deselected} deselected by --changed-only"]
        if self.not_collected:
            lines[0] += f" ({self.not_collected} test files with nothing selected not collected)"
        if self.checks:
            lines.append(f"and {self.reasons[items[-1].nodeid]}")
        for note in self.selection.notes:
            lines.append(f"changed-only: {note}")
        if config.getoption("verbose") > 0:
            for placed in self.selection.files:
                lines.append(
                    f"  {placed.path} ({placed.status}): {placed.placement}: {placed.detail}"
                )
            for item in items:
                lines.append(f"  {item.nodeid}: {self.reasons.get(item.nodeid, '')}")
        return lines
