"""The per-test coverage map: which test executed which lines, recorded with coverage.py
contexts and stored under `.code-assistant/coverage/<commit>.json`.

It only ever *narrows* a selection, and only where that is sound: a change confined to the body
of a function that existed at the recorded commit cannot affect a test that never executed a line
of that body (the test's run is identical up to its first call, which never comes). Anything
else (new or re-signed functions, class bodies, import-time code, code run while modules were
being imported) keeps the static selection. A map recorded at another commit, on a dirty work
tree, or that does not parse is reported and ignored, never trusted.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from .change import ChangedFile, blob_id, git, has_head
from .engine import SelectedTest
from .source import MODULE, def_ranges

MAP_SCHEMA = "code-assistant/coverage-map@1"
MAP_DIR = Path(".code-assistant") / "coverage"


class Recorder:
    """coverage.py measuring the repository, one dynamic context per test (the node id)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.tests: list[str] = []
        self.cov = None

    def start(self) -> None:
        import coverage

        self.cov = coverage.Coverage(
            data_file=None, source=[str(self.root)], config_file=False, branch=False
        )
        self.cov.start()

    def switch(self, context: str) -> None:
        if self.cov is None:
            return
        if context:
            self.tests.append(context)
        self.cov.switch_context(context)

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
        files: dict[str, dict] = {}
        for measured in data.measured_files():
            try:
                rel = Path(measured).resolve().relative_to(root.resolve()).as_posix()
            except ValueError:
                continue
            by_line = data.contexts_by_lineno(measured)
            lines: dict[str, list[int]] = {}
            for line, contexts in by_line.items():
                ids = sorted({index.get(c, -1) for c in contexts})
                lines[str(line)] = ids  # -1: ran outside any test (collection, imports)
            try:
                sha = blob_id((root / rel).read_bytes())
            except OSError:
                continue
            files[rel] = {"blob": sha, "lines": lines}
        document = {
            "schema": MAP_SCHEMA,
            "commit": commit,
            "dirty": dirty,
            "tests": tests,
            "files": files,
        }
        from ..report import write_atomic
        from .cache import ensure_ignored

        ensure_ignored(root / MAP_DIR.parent)
        return write_atomic(root / MAP_DIR / f"{commit}.json", json.dumps(document))


@dataclass
class CoverageMap:
    commit: str
    tests: list[str]
    files: dict[str, dict]
    path: Path

    def describe(self) -> str:
        return f"coverage map recorded at {self.commit[:12]} ({len(self.tests)} tests)"

    def _tests_of(self, path: str, first: int, last: int) -> set[int] | None:
        """Tests that executed any line in [first, last] of `path`; None when lines there ran
        outside any test (import time) and so cannot narrow anything."""
        entry = self.files.get(path)
        if entry is None:
            return set()
        found: set[int] = set()
        for line in range(first, last + 1):
            ids = entry["lines"].get(str(line))
            if ids:
                if -1 in ids:
                    return None
                found.update(ids)
        return found

    def narrow(self, graph, changed: ChangedFile, seeds: dict, is_test):
        """Split a modified file's seeds into those coverage can answer for (tests returned
        directly, with the lines that tie them) and those left to the static graph. None when
        the map cannot speak for this file."""
        entry = self.files.get(changed.path)
        if entry is None or changed.old is None or entry.get("blob") != blob_id(changed.old):
            return None
        from .graph import reach

        old_text = changed.old.decode("utf-8", "replace")
        new_text = graph.texts.get(changed.path, "")
        hunks = _hunks(old_text, new_text)
        old_defs, new_defs = def_ranges(old_text), def_ranges(new_text)
        static = dict(seeds)
        tests: list[SelectedTest] = []
        recorded = {_key(t) for t in self.tests}
        for node in list(seeds):
            if node[0] != "u" or node[2] == MODULE:
                continue
            spans = _body_spans(node[2], hunks, old_defs, new_defs)
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
    old last == old first - 1 (it sits before old line `first`)."""
    matcher = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False)
    return [
        (i1 + 1, i2, j1 + 1, j2) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"
    ]


def _body_spans(qualname, hunks, old_defs, new_defs) -> list[tuple[int, int]] | None:
    """The old body lines of `qualname` (its innermost defs) touched by the hunks, when every
    hunk inside it stays inside the same def's body on both sides; None otherwise."""
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
        spans.append((innermost.body_start, innermost.end))
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
        if data.get("schema") != MAP_SCHEMA:
            raise ValueError(f"schema {data.get('schema')!r}")
        if data.get("commit") != commit:
            raise ValueError("recorded for another commit")
        tests, files = data["tests"], data["files"]
        if not isinstance(tests, list) or not isinstance(files, dict):
            raise ValueError("tests/files of the wrong type")
        for entry in files.values():
            if not isinstance(entry, dict) or not isinstance(entry.get("lines"), dict):
                raise ValueError("a file entry of the wrong type")
            for ids in entry["lines"].values():
                if not isinstance(ids, list) or not all(
                    isinstance(i, int) and -1 <= i < len(tests) for i in ids
                ):
                    raise ValueError("a line entry of the wrong type")
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        return None, f"coverage map ignored: {path.name} is corrupt ({exc})"
    if data.get("dirty"):
        return None, f"coverage map ignored: {path.name} was recorded on a dirty work tree"
    return CoverageMap(commit, tests, files, path), None
