"""The per-test coverage map: which test executed which lines, recorded with coverage.py
contexts and stored under `.code-assistant/coverage/<commit>.json`.

It only ever *narrows* a selection, and only where that is sound: a change confined to the body
of a function that existed at the recorded commit cannot affect a test that never executed a line
of that body (the test's run is identical up to its first call, which never comes); when the edit
keeps every line in place and the body's statement structure unchanged, the same holds for the
statements it touched (`statements.py`). A changed function that may run at import time (it
escapes into a decorator or registry) keeps every importer selected, unless the map shows its
changed lines never ran outside a test. Anything else (new or re-signed functions, class bodies,
import-time code, code run while modules were being imported) keeps the static selection.

Recording starts before the initial conftest.py files are imported, and the lines a shared
fixture's setup runs count for every test that uses the fixture, not just the first. A map
recorded at another commit or by another version, on a dirty work tree, or that does not parse is
reported and ignored, never trusted.
"""

from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

from ..errors import UserError
from .change import ChangedFile, blob_id, git, has_head
from .engine import SelectedTest
from .source import MODULE, def_ranges
from .statements import touched_statement_spans

MAP_SCHEMA = "code-assistant/coverage-map@2"
MAP_DIR = Path(".code-assistant") / "coverage"


FIXTURE_CONTEXT = "fixture "  # + "<scope> <baseid>::<name>": a shared fixture's setup


class Recorder:
    """coverage.py measuring the repository, one dynamic context per test (the node id) and
    one per shared (class, module, package or session scoped) fixture setup.

    A shared fixture is set up during the first test that needs it and reused by the others, so
    the lines its setup runs are attributed to every test that uses it, not only to the first.
    Repository modules already imported when recording starts (by a plugin, say) have import-time
    lines the map never saw; they are listed so no later run narrows a change in them."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.tests: list[str] = []
        self.fixture_users: dict[str, set[str]] = {}
        self.preloaded: list[str] = []
        self.cov = None
        self._context = ""
        self._stack: list[str] = []

    def start(self) -> None:
        import sys

        import coverage

        root = os.path.realpath(self.root)
        for module in list(sys.modules.values()):
            path = getattr(module, "__file__", None)
            if path and os.path.realpath(path).startswith(root + os.sep):
                self.preloaded.append(os.path.realpath(path))
        self.cov = coverage.Coverage(
            data_file=None, source=[str(self.root)], config_file=False, branch=False
        )
        self.cov.start()

    def stop(self) -> None:
        if self.cov is not None:
            self.cov.stop()
            self.cov = None

    def switch(self, context: str) -> None:
        if self.cov is None:
            return
        if context:
            self.tests.append(context)
        self._context = context
        self.cov.switch_context(context)

    def uses(self, test: str, fixtures: list[str]) -> None:
        """`test` uses these shared fixtures (keys as given to `enter_fixture`)."""
        for key in fixtures:
            self.fixture_users.setdefault(key, set()).add(test)

    def enter_fixture(self, key: str) -> None:
        if self.cov is None:
            return
        self._stack.append(self._context)
        self._context = FIXTURE_CONTEXT + key
        self.cov.switch_context(self._context)

    def leave_fixture(self) -> None:
        if self.cov is None or not self._stack:
            return
        self._context = self._stack.pop()
        self.cov.switch_context(self._context)

    def finish(self) -> Path:
        """Stop measuring and write the map for HEAD."""
        self.cov.stop()
        from .change import repo_root

        root = repo_root(self.root)
        if not has_head(root):
            raise UserError("the repository has no commit to key the map by")
        commit = git(root, "rev-parse", "HEAD").decode().strip()
        dirty = bool(
            git(root, "status", "--porcelain", "--untracked-files=no", "--", "*.py").strip()
        )
        data = self.cov.get_data()
        tests = list(dict.fromkeys(self.tests))
        index = {test: i for i, test in enumerate(tests)}
        groups = []
        for key in sorted(self.fixture_users):
            users = sorted(index[t] for t in self.fixture_users[key] if t in index)
            if users:  # (a fixture set up for no known test stays "outside any test": -1)
                index[FIXTURE_CONTEXT + key] = len(tests) + len(groups)
                groups.append({"context": FIXTURE_CONTEXT + key, "tests": users})
        files: dict[str, dict] = {}
        # most lines share their test list with their neighbours: each distinct list is stored
        # once in `sets`, and a line names its set (a third of the size, read 3x faster)
        sets: dict[tuple[int, ...], int] = {}
        for measured in data.measured_files():
            rel = _relative(measured, root)
            if rel is None:
                continue
            by_line = data.contexts_by_lineno(measured)
            lines: dict[str, int] = {}
            for line, contexts in by_line.items():
                ids = tuple(sorted({index.get(c, -1) for c in contexts}))
                lines[str(line)] = sets.setdefault(ids, len(sets))  # -1: outside any test
            try:
                sha = blob_id((root / rel).read_bytes())
            except OSError:
                continue
            files[rel] = {"blob": sha, "lines": lines}
        preloaded = sorted({r for r in (_relative(p, root) for p in self.preloaded) if r})
        document = {
            "schema": MAP_SCHEMA,
            "commit": commit,
            "dirty": dirty,
            "tests": tests,
            "groups": groups,
            "preloaded": preloaded,
            "sets": [list(ids) for ids in sets],
            "files": files,
        }
        from ..report import write_atomic
        from .cache import ensure_ignored

        ensure_ignored(root / MAP_DIR.parent)
        return write_atomic(root / MAP_DIR / f"{commit}.json", json.dumps(document))


def _relative(path: str, root: Path) -> str | None:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


@dataclass
class CoverageMap:
    commit: str
    tests: list[str]
    files: dict[str, dict]
    path: Path
    groups: list[list[int]] = field(default_factory=list)  # shared fixture -> its users
    preloaded: frozenset[str] = frozenset()
    sets: list[list[int]] = field(default_factory=list)  # the test lists lines point to

    def describe(self) -> str:
        return f"coverage map recorded at {self.commit[:12]} ({len(self.tests)} tests)"

    def _tests_of(self, path: str, first: int, last: int) -> set[int] | None:
        """Tests that executed any line in [first, last] of `path`; None when lines there ran
        outside any test (import time) and so cannot narrow anything."""
        entry = self.files.get(path)
        if entry is None:
            return set()
        found: set[int] = set()
        count = len(self.tests)
        for line in range(first, last + 1):
            number = entry["lines"].get(str(line))
            ids = self.sets[number] if number is not None else None
            if ids:
                if -1 in ids:
                    return None
                for i in ids:
                    found.update(self.groups[i - count] if i >= count else (i,))
        return found

    def narrow(
        self, graph, changed: ChangedFile, seeds: dict, is_test, escaping: frozenset = frozenset()
    ):
        """Split a modified file's seeds into those coverage can answer for (tests returned
        directly, with the lines that tie them) and those left to the static graph. None when
        the map cannot speak for this file.

        `escaping` names changed units that are the only reason the module's import-time
        behaviour was seeded (they may run at import time through a decorator or registry):
        when none of their changed lines ran outside a test while recording, import time never
        reached the change, and that seed is dropped too."""
        entry = self.files.get(changed.path)
        if entry is None or changed.old is None or entry.get("blob") != blob_id(changed.old):
            return None
        if changed.path in self.preloaded:
            return None  # imported before recording began: its import-time lines are unknown
        from .graph import reach

        old_text = changed.old.decode("utf-8", "replace")
        new_text = graph.texts.get(changed.path, "")
        hunks = _hunks(old_text, new_text)
        old_defs, new_defs = def_ranges(old_text), def_ranges(new_text)
        static = dict(seeds)
        tests: list[SelectedTest] = []
        recorded = {_key(t) for t in self.tests}
        narrowed: set[str] = set()
        for node in list(seeds):
            if node[0] != "u" or node[2] == MODULE:
                continue
            spans = _body_spans(node[2], hunks, old_defs, new_defs, old_text, new_text)
            if spans is None:
                continue
            hit: set[int] = set()
            for first, last in spans:
                found = self._tests_of(changed.path, first, last)
                if found is None:
                    hit = None
                    break
                hit |= found
            if hit is None:
                continue
            narrowed.add(node[2])
            del static[node]
            result = reach(graph, {node: "changed"})
            statically = _static_tests(graph, result, is_test)
            lines = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in spans)
            for test_id in sorted(hit):
                path, name = _key(self.tests[test_id])
                if _within(path, name, statically):
                    tests.append(
                        SelectedTest(path, name, "test", f"covered lines {lines} of {changed.path}")
                    )
            for path, name, scope in statically:
                if scope == "test" and (path, name) not in recorded:
                    tests.append(SelectedTest(path, name, "test", "not in the coverage map"))
                elif scope != "test" and not any(p == path for p, _ in recorded):
                    tests.append(SelectedTest(path, name, scope, "not in the coverage map"))
        module = ("b", changed.path)
        if escaping and module in static and escaping <= narrowed:
            del static[module]
        if static == seeds:
            return None
        return static, tests


def _key(nodeid: str) -> tuple[str, str]:
    path, _, rest = nodeid.partition("::")
    return path, rest.split("[", 1)[0].replace("::", ".")


def _within(path: str, name: str, statically: set) -> bool:
    for spath, sname, scope in statically:
        if spath != path:
            continue
        if scope == "file" or sname == name or (sname and name.startswith(sname + ".")):
            return True
    return False


def _static_tests(graph, result, is_test) -> set[tuple[str, str | None, str]]:
    from .engine import _collect, _Collected

    out = _Collected()
    _collect(graph, result, is_test, "", out)
    return {(t.path, t.name, t.scope) for t in out.tests.values()}


def _hunks(old: str, new: str) -> list[tuple[int, int, int, int]]:
    """Changed regions as (old first, old last, new first, new last), 1-based; an insertion has
    old last == old first - 1 (it sits before old line `first`). The common head and tail are
    set aside first: difflib then only aligns the part that changed."""
    a, b = old.splitlines(), new.splitlines()
    head = 0
    while head < len(a) and head < len(b) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < len(a) - head and tail < len(b) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    middle_a, middle_b = a[head : len(a) - tail], b[head : len(b) - tail]
    matcher = difflib.SequenceMatcher(None, middle_a, middle_b, autojunk=False)
    return [
        (head + i1 + 1, head + i2, head + j1 + 1, head + j2)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


def _body_spans(
    qualname, hunks, old_defs, new_defs, old_text: str, new_text: str
) -> list[tuple[int, int]] | None:
    """The old lines of `qualname` touched by the hunks, when every hunk inside it stays inside
    the same def's body on both sides (None otherwise): the touched statements where the edit
    keeps the body's shape (`statements.py`), else the innermost def's whole body."""
    old = [d for d in old_defs if d.qualname == qualname or d.qualname.startswith(qualname + ".")]
    new = {d.qualname: d for d in new_defs}
    outer = next((d for d in old if d.qualname == qualname), None)
    if outer is None or qualname not in new:
        return None
    spans = []
    for old_first, old_last, new_first, new_last in hunks:
        if old_last < outer.start - 1 or old_first > outer.end + 1:
            continue  # a hunk elsewhere in the file
        inner = [d for d in old if d.body_start <= old_first and max(old_last, old_first) <= d.end]
        if not inner:
            return None
        innermost = inner[-1]
        twin = new.get(innermost.qualname)
        if twin is None or not (
            twin.body_start <= new_first and max(new_last, new_first - 1) <= twin.end
        ):
            return None
        statements = touched_statement_spans(
            old_text, new_text, (old_first, old_last, new_first, new_last), innermost, twin
        )
        if statements is None:
            spans.append((innermost.body_start, innermost.end))
        else:
            spans.extend(statements)
    return spans or None


def load(root: Path, commit: str | None) -> tuple[CoverageMap | None, str | None]:
    """The map recorded at `commit`, or (None, why not) — a warning when a map exists but
    cannot be trusted."""
    folder = Path(root) / MAP_DIR
    if commit is None or not folder.is_dir():
        return None, None
    path = folder / f"{commit}.json"
    if not path.is_file():
        others = sorted(p.stem[:12] for p in folder.glob("*.json"))
        if others:
            return None, (
                f"coverage map ignored: recorded at {', '.join(others[:3])}, not at the base "
                f"{commit[:12]} (stale)"
            )
        return None, None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        schema = data.get("schema")
        if isinstance(schema, str) and schema.startswith("code-assistant/coverage-map@"):
            if schema != MAP_SCHEMA:
                return None, (
                    f"coverage map ignored: {path.name} was recorded by another version "
                    f"({schema}, this one reads {MAP_SCHEMA}); record it again"
                )
        elif schema != MAP_SCHEMA:
            raise ValueError(f"schema {schema!r}")
        if data.get("commit") != commit:
            raise ValueError("recorded for another commit")
        tests, files = data["tests"], data["files"]
        groups, preloaded = data["groups"], data["preloaded"]
        if not isinstance(tests, list) or not isinstance(files, dict):
            raise ValueError("tests/files of the wrong type")
        if not isinstance(preloaded, list) or not all(isinstance(p, str) for p in preloaded):
            raise ValueError("preloaded of the wrong type")
        users = [group["tests"] for group in groups]
        if not all(
            isinstance(u, list) and all(isinstance(i, int) and 0 <= i < len(tests) for i in u)
            for u in users
        ):
            raise ValueError("a fixture group of the wrong type")
        top = len(tests) + len(users)
        sets = data["sets"]
        if not isinstance(sets, list) or not all(type(ids) is list for ids in sets):
            raise ValueError("sets of the wrong type")
        if not all(type(i) is int and -1 <= i < top for i in set(chain.from_iterable(sets))):
            raise ValueError("a set names no recorded test")
        numbers: set = set()
        for entry in files.values():
            if not isinstance(entry, dict) or not isinstance(entry.get("lines"), dict):
                raise ValueError("a file entry of the wrong type")
            numbers.update(entry["lines"].values())
        if not all(type(n) is int and 0 <= n < len(sets) for n in numbers):
            raise ValueError("a line names no set")
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        return None, f"coverage map ignored: {path.name} is corrupt ({exc})"
    if data.get("dirty"):
        return None, f"coverage map ignored: {path.name} was recorded on a dirty work tree"
    return CoverageMap(commit, tests, files, path, users, frozenset(preloaded), sets), None
