"""Test selection: combine the signals for one change into tests, each with the reason it runs.

Signals, strongest first: safety rules (`safety.py`: configuration, manifests, conftest), the
units the change touched walked in reverse through the import graph to the tests that reach
them (`graph.py`), a recorded per-test coverage map that may narrow a change confined to a
function body (`coverage_map.py`), mentions of data files by name, and naming conventions as a
last hint. A changed file that no signal can place selects the whole suite, and says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath

from .change import Change, ChangedFile, blob_id
from .frameworks import PytestSettings, pytest_settings
from .graph import Node, PythonGraph, Reach, module_names, reach
from .safety import Placement, classify
from .source import MODULE, ModuleSummary, digests, summarize

_MAX_HOPS = 6


@dataclass(frozen=True)
class SelectedTest:
    """A test (or a class, file, folder, or the whole suite) chosen to run, and why."""

    path: str  # test file; folder ending in "/" for a directory; "" for the whole suite
    name: str | None  # qualname in the file ("TestX.test_y") for test and class scopes
    scope: str  # test | class | file | directory | suite
    reason: str

    @property
    def nodeid(self) -> str:
        if self.scope == "suite":
            return ""
        if self.name:
            return f"{self.path}::{self.name.replace('.', '::')}"
        return self.path.rstrip("/") or "."

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "name": self.name,
            "scope": self.scope,
            "nodeid": self.nodeid,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class FilePlacement:
    path: str
    status: str
    placement: str
    detail: str

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "status": self.status,
            "placement": self.placement,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Selection:
    tests: tuple[SelectedTest, ...]
    files: tuple[FilePlacement, ...] = ()
    notes: tuple[str, ...] = ()
    import_checks: tuple[str, ...] = ()  # modules to import when nothing is selected
    import_changed: tuple[str, ...] = ()  # changed modules whose imports changed: always import
    import_roots: tuple[str, ...] = ()  # folders those modules import from (`.`, `src`)
    # modules each checked module imported before the change: one missing then was missing anyway
    imported_before: tuple[tuple[str, tuple[str, ...]], ...] = ()
    touched_modules: frozenset[str] = frozenset()  # files with an affected unit (doctests)
    coverage: str | None = None
    _index: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def whole_suite(self) -> SelectedTest | None:
        return next((t for t in self.tests if t.scope == "suite"), None)

    def match(self, path: str, qualnames: Iterable[str] = ()) -> str | None:
        """The reason a test at `path` (a function or method with one of `qualnames`) is
        selected, or None when it is not."""
        if not self._index:
            self._build_index()
        if self.whole_suite is not None:
            return self.whole_suite.reason
        for folder, reason in self._index["dirs"]:
            if path.startswith(folder):
                return reason
        if path in self._index["files"]:
            return self._index["files"][path]
        units = self._index["units"].get(path)
        if not units:
            return None
        for qualname in qualnames:
            parts = qualname.split(".")
            for cut in range(len(parts), 0, -1):
                reason = units.get(".".join(parts[:cut]))
                if reason is not None:
                    return reason
        return None

    def selects_in(self, path: str) -> bool:
        """Whether anything in the file at `path` is selected (else it need not be collected)."""
        if not self._index:
            self._build_index()
        return (
            self.whole_suite is not None
            or any(path.startswith(folder) for folder, _ in self._index["dirs"])
            or path in self._index["files"]
            or path in self._index["units"]
        )

    def _build_index(self) -> None:
        dirs, files, units = [], {}, {}
        for test in self.tests:
            if test.scope == "directory":
                dirs.append((test.path, test.reason))
            elif test.scope == "file":
                files[test.path] = test.reason
            elif test.name:
                units.setdefault(test.path, {})[test.name] = test.reason
        self._index.update(dirs=dirs, files=files, units=units)

    def to_dict(self) -> dict:
        return {
            "tests": [t.to_dict() for t in self.tests],
            "files": [f.to_dict() for f in self.files],
            "notes": list(self.notes),
            "coverage": self.coverage,
        }


@dataclass
class _Collected:
    """Tests found so far, by (path, name) key, keeping the first reason."""

    tests: dict[tuple[str, str | None, str], SelectedTest] = field(default_factory=dict)

    def add(self, test: SelectedTest) -> None:
        self.tests.setdefault((test.path, test.name, test.scope), test)

    def __len__(self) -> int:
        return len(self.tests)


def select_tests(
    change: Change,
    settings: PytestSettings | None = None,
    coverage=None,
    cache=None,
) -> Selection:
    """Select the Python tests this change can affect. `coverage` is a loaded `CoverageMap`
    (or None); `cache` a `SummaryCache` (or None)."""
    settings = settings or pytest_settings(change.read)
    is_test = settings.is_test_file
    notes: list[str] = []
    placements: list[FilePlacement] = []
    suite: list[str] = []
    out = _Collected()
    python: list[ChangedFile] = []
    others: list[tuple[ChangedFile, Placement]] = []

    for changed in change.files:
        placement = classify(changed.path, changed.old, changed.new)
        if changed.status == "renamed" and changed.old_path and not changed.path.endswith(".py"):
            old_placement = classify(changed.old_path, changed.old, None)
            if old_placement.kind in ("suite", "directory"):
                placement = old_placement
        if placement.kind == "suite":
            suite.append(placement.reason)
            placements.append(
                FilePlacement(changed.path, changed.status, "suite", placement.reason)
            )
        elif placement.kind == "directory":
            out.add(SelectedTest(placement.directory or "", None, "directory", placement.reason))
            placements.append(
                FilePlacement(changed.path, changed.status, "directory", placement.reason)
            )
        elif placement.kind == "python":
            python.append(changed)
        else:
            others.append((changed, placement))

    for changed, placement in others:
        if placement.kind == "inert" and any(
            PurePosixPath(changed.path).match(glob) for glob in settings.doctest_glob
        ):
            reason = f"test configuration collects it: --doctest-glob in {settings.config_file}"
            suite.append(reason)
            placements.append(FilePlacement(changed.path, changed.status, "suite", reason))

    if suite:
        return Selection(
            tests=(SelectedTest("", None, "suite", "; ".join(dict.fromkeys(suite))),),
            files=tuple(placements),
            notes=tuple(notes),
        )

    graph, raw = _graph(change, is_test, cache)
    touched: set[str] = set()
    import_checks: list[str] = []
    import_changed: list[str] = []
    import_roots: list[str] = []
    imported_before: list[tuple[str, tuple[str, ...]]] = []
    coverage_used = None

    for changed in python:
        seeds, label, escaping = _python_seeds(graph, changed, raw)
        if not seeds:
            placements.append(
                FilePlacement(changed.path, changed.status, "none", label or "no code change")
            )
            continue
        before = len(out)
        narrowed = None
        if coverage is not None and changed.status == "modified":
            narrowed = coverage.narrow(graph, changed, seeds, is_test, escaping)
            if narrowed is not None:
                coverage_used = coverage.describe()
        if narrowed is not None:
            static_seeds, narrowed_tests = narrowed
            for test in narrowed_tests:
                out.add(test)
            result = reach(graph, static_seeds) if static_seeds else None
        else:
            result = reach(graph, seeds)
        if result is not None:
            touched.update(n[1] for n in result.parent if n[0] in ("u", "b"))
            _collect(graph, result, is_test, changed.path, out)
        found = len(out) - before
        if (
            not is_test(changed.path)
            and changed.status != "deleted"
            and not changed.path.endswith("conftest.py")
        ):
            name = graph.names.get(changed.path)
            if name:
                import_checks.append(name)
                import_roots.append(_source_root(changed.path, name))
                imported_before.append((name, _imported_modules(changed.old)))
                if any(label == "import changed" for label in seeds.values()):
                    import_changed.append(name)
            if not found and not _imported_by_tests(graph, changed.path, is_test):
                fallback = _unplaced(graph, changed.path, change.paths, is_test)
                if fallback.scope == "suite":
                    suite.append(fallback.reason)
                else:
                    out.add(fallback)
                placements.append(
                    FilePlacement(changed.path, changed.status, fallback.scope, fallback.reason)
                )
                continue
        placements.append(
            FilePlacement(
                changed.path,
                changed.status,
                "graph",
                f"{label}; {found} test(s) or scope(s) reached",
            )
        )

    for changed, placement in others:
        kind, reason = _data_file(graph, changed, placement, change.paths, is_test, out)
        if kind == "suite":
            suite.append(reason)
        placements.append(FilePlacement(changed.path, changed.status, kind, reason))

    if cache is not None:
        cache.save({blob_id(data) for data in raw.values()})
    if suite:
        return Selection(
            tests=(SelectedTest("", None, "suite", "; ".join(dict.fromkeys(suite))),),
            files=tuple(placements),
            notes=tuple(notes),
        )
    return Selection(
        tests=tuple(_drop_covered(_inherited(graph, list(out.tests.values())))),
        files=tuple(placements),
        notes=tuple(notes),
        import_checks=tuple(dict.fromkeys(import_checks)),
        import_changed=tuple(dict.fromkeys(import_changed)),
        import_roots=tuple(dict.fromkeys(import_roots)),
        imported_before=tuple(imported_before),
        touched_modules=frozenset(touched),
        coverage=coverage_used,
    )


def _imported_modules(old: bytes | None) -> tuple[str, ...]:
    """Top-level names of the modules a file imported before the change."""
    if old is None:
        return ()
    summary = summarize(old.decode("utf-8", "replace"))
    return tuple(
        sorted({i.module.split(".")[0] for i in summary.imports if i.module and not i.level})
    )


def _source_root(path: str, module: str) -> str:
    """The folder a module is imported from: `src` for src/pkg/mod.py as pkg.mod."""
    pure = PurePosixPath(path)
    parts = pure.parent.parts if pure.name == "__init__.py" else pure.with_suffix("").parts
    depth = len(module.split("."))
    return "/".join(parts[:-depth]) or "." if depth <= len(parts) else "."


def _collectable(unit) -> bool:
    """A class pytest collects by itself: named Test*, or a unittest TestCase."""
    return unit.name.startswith("Test") or any(b.endswith("TestCase") for b in unit.bases)


def _inherited(graph: PythonGraph, tests: list[SelectedTest]) -> list[SelectedTest]:
    """A test defined on a mixin runs as a node of each collected subclass in its file: name it
    there (node ids must exist), and drop the mixin's own when pytest never collects it."""
    out = []
    for test in tests:
        if test.scope not in ("test", "class") or not test.name or test.path not in graph.texts:
            out.append(test)
            continue
        units = graph.summary(test.path).units
        owner, _, leaf = test.name.partition(".") if test.scope == "test" else (test.name, "", "")
        base = units.get(owner)
        subclasses = [
            u
            for u in units.values()
            if u.kind == "class"
            and u.name != owner
            and any(b.split(".")[-1] == owner for b in u.bases)
        ]
        for sub in subclasses:
            if leaf and f"{sub.name}.{leaf}" in units:
                continue  # overridden: the subclass's own method is its own unit
            out.append(replace(test, name=f"{sub.name}.{leaf}" if leaf else sub.name))
        if base is None or _collectable(base) or not subclasses:
            out.append(test)
    return out


def _drop_covered(tests: list[SelectedTest]) -> list[SelectedTest]:
    """Leave out tests already inside a selected folder, file or class."""
    dirs = [t.path for t in tests if t.scope == "directory"]
    files = {t.path for t in tests if t.scope == "file"}
    classes = {(t.path, t.name) for t in tests if t.scope == "class"}
    kept = []
    for test in tests:
        if test.scope != "directory" and any(test.path.startswith(d) for d in dirs):
            continue
        if test.scope in ("test", "class") and test.path in files:
            continue
        if test.scope == "test" and test.name and "." in test.name:
            owner = test.name.rsplit(".", 1)[0]
            if (test.path, owner) in classes:
                continue
        kept.append(test)
    return sorted(kept, key=lambda t: (t.path, t.name or ""))


# --- the graph ----------------------------------------------------------------------------------


def _graph(change: Change, is_test, cache) -> tuple[PythonGraph, dict[str, bytes]]:
    raw: dict[str, bytes] = {}
    for path in change.paths:
        if path.endswith(".py"):
            data = change.read(path)
            if data is not None:
                raw[path] = data
    texts = {path: data.decode("utf-8", "replace") for path, data in raw.items()}

    def summarize_file(path: str) -> ModuleSummary:
        data = raw[path]
        key = blob_id(data) if cache is not None else None
        found = cache.get(key) if cache is not None else None
        if found is None:
            found = summarize(texts[path])
            if cache is not None:
                cache.put(key, found)
        return found

    graph = PythonGraph(texts, summarize_file, is_test)
    deleted = [
        f for f in change.files if f.path.endswith(".py") or (f.old_path or "").endswith(".py")
    ]
    gone = {
        (f.old_path or f.path)
        for f in deleted
        if f.status in ("deleted", "renamed") and (f.old_path or f.path) not in texts
    }
    names = module_names(sorted(gone), lambda p: p in texts or p in gone)
    for f in deleted:
        old_path = f.old_path or f.path
        if old_path in gone and f.old is not None:
            graph.add_ghost(old_path, names[old_path], summarize(f.old.decode("utf-8", "replace")))
    return graph, raw


def _python_seeds(
    graph: PythonGraph, changed: ChangedFile, raw
) -> tuple[dict[Node, str], str, frozenset[str]]:
    """The nodes a change to a Python file touches, a description of them, and the changed
    units that are the only reason the module's import-time behaviour is seeded (they escape
    into a decorator or registry and so may run at import time)."""
    seeds: dict[Node, str] = {}
    if changed.status in ("deleted", "renamed"):
        old_path = changed.old_path or changed.path
        if old_path in graph.ghosts:
            seeds[("b", old_path)] = "deleted"
            for name in graph.ghosts[old_path].units:
                if name != MODULE:
                    seeds[("u", old_path, name)] = "deleted"
        if changed.status == "deleted":
            return seeds, "module deleted: its former importers", frozenset()
    path = changed.path
    if path not in graph.texts:
        return seeds, "not a readable file", frozenset()
    if changed.status in ("added", "renamed") or changed.old is None:
        seeds[("b", path)] = "new"
        for name in graph.summary(path).units:
            if name != MODULE:
                seeds[("u", path, name)] = "new"
        label = "new module" if changed.status == "added" else "renamed module"
        return seeds, label, frozenset()
    old_text = changed.old.decode("utf-8", "replace")
    new_text = graph.texts[path]
    before, after = digests(old_text), digests(new_text)
    if before is None or after is None:
        seeds[("b", path)] = "does not parse"
        for name in graph.summary(path).units:
            if name != MODULE:
                seeds[("u", path, name)] = "does not parse"
        return seeds, "does not parse: the whole module", frozenset()
    changed_units = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    import_time: list[str] = []  # why the module's import-time behaviour may have changed
    escaping: list[str] = []
    for name in changed_units:
        if name == MODULE:
            import_time.append("import-time code changed")
        elif name == "<imports>":
            for local, new_repo_module in _import_changes(graph, path, old_text):
                seeds[("u", path, local)] = "import changed"
                if new_repo_module and "imports another repo module" not in import_time:
                    import_time.append("imports another repo module")
        else:
            seeds[("u", path, name)] = "changed"
            unit = graph.summary(path).units.get(name)
            if unit is not None and ("impure" in unit.flags or "escapes" in unit.flags):
                import_time.append(f"{name} may run at import time")
                escaping.append(name)
    if import_time:
        seeds[("b", path)] = "; ".join(import_time)
    if not seeds:
        return seeds, "no code change (comments or formatting only)", frozenset()
    shown = [n for n in changed_units if not n.startswith("<")]
    label = "changed: " + ", ".join(shown[:8]) + (" ..." if len(shown) > 8 else "")
    # a coverage map may refute "may run at import time"; it cannot refute the other reasons
    only_escaping = frozenset(escaping) if len(escaping) == len(import_time) else frozenset()
    return seeds, label, only_escaping


def _import_changes(graph: PythonGraph, path: str, old_text: str) -> list[tuple[str, bool]]:
    old = {(i.local, i.module, i.name, i.level) for i in summarize(old_text).imports}
    new = {(i.local, i.module, i.name, i.level) for i in graph.summary(path).imports}
    out = []
    for local, module, name, level in old ^ new:
        repo = (
            bool(graph.module_paths(path, level, module))
            if (local, module, name, level) in new
            else False
        )
        out.append((local or "*", repo))
    return out


# --- from reach to tests --------------------------------------------------------------------


def _describe(graph: PythonGraph, node: Node) -> str:
    kind = node[0]
    if kind == "u":
        return f"{graph.names.get(node[1], node[1])}.{node[2]}"
    if kind == "b":
        return f"{graph.names.get(node[1], node[1])} (import time)"
    if kind == "a":
        return f"{graph.names.get(node[1], node[1])} (module object)"
    if kind == "attr":
        return f".{node[1]}"
    return "dynamic lookup"


def _reason(graph: PythonGraph, result: Reach, node: Node, changed_path: str) -> str:
    chain = result.chain(node)
    if len(chain) == 1:
        return "changed"
    names = [_describe(graph, n) for n in chain]
    if len(names) > _MAX_HOPS:
        names = names[:2] + ["..."] + names[-(_MAX_HOPS - 3) :]
    return f"imports {changed_path} via {' -> '.join(names)}"


def _collect(
    graph: PythonGraph, result: Reach, is_test, changed_path: str, out: _Collected
) -> None:
    for node in result.parent:
        if node[0] not in ("u", "b"):
            continue
        path = node[1]
        conftest = path.endswith("conftest.py")
        if not (conftest or is_test(path)) or path in graph.ghosts:
            continue
        folder = str(PurePosixPath(path).parent)
        folder = "" if folder == "." else folder + "/"
        if node[0] == "b":
            reason = _reason(graph, result, node, changed_path)
            if conftest:
                out.add(SelectedTest(folder, None, "directory", f"conftest {reason}"))
            else:
                out.add(SelectedTest(path, None, "file", reason))
            continue
        unit = graph.summary(path).units.get(node[2])
        if unit is None:
            continue
        leaf = unit.name.rsplit(".", 1)[-1]
        reason = _reason(graph, result, node, changed_path)
        if conftest:
            if "autouse" in unit.flags or leaf.startswith("pytest_"):
                out.add(SelectedTest(folder, None, "directory", f"conftest {reason}"))
            continue
        if "autouse" in unit.flags:
            out.add(SelectedTest(path, None, "file", f"autouse fixture {reason}"))
        elif unit.kind in ("function", "method") and leaf.startswith("test"):
            out.add(SelectedTest(path, unit.name, "test", reason))
        elif unit.kind == "class" and _has_tests(graph.summary(path), unit.name):
            out.add(SelectedTest(path, unit.name, "class", reason))


def _has_tests(summary: ModuleSummary, owner: str) -> bool:
    prefix = owner + "."
    return any(n.startswith(prefix + "test") for n in summary.units) or owner.startswith("Test")


# --- placement checks ---------------------------------------------------------------------


def _imported_by_tests(graph: PythonGraph, path: str, is_test) -> bool:
    """Whether any test (or conftest) imports the module, however indirectly."""
    found = False

    def stop(node: Node) -> bool:
        nonlocal found
        if node[0] in ("b", "u") and (is_test(node[1]) or node[1].endswith("conftest.py")):
            found = True  # at import time, or lazily inside a test or fixture
        return found

    reach(graph, {("b", path): "placement"}, stop=stop)
    return found


def _stem_tests(path: str, paths: list[str], is_test) -> list[str]:
    stem = PurePosixPath(path).stem
    wanted = {f"test_{stem}.py", f"{stem}_test.py", f"tests_{stem}.py"}
    return [p for p in paths if PurePosixPath(p).name in wanted and is_test(p)]


def _unplaced(graph: PythonGraph, path: str, paths: list[str], is_test) -> SelectedTest:
    """A module no test imports: tests that name it, else tests named after it, else all."""
    name = graph.names.get(path, "")
    needles = [n for n in (path, name if "." in name else "") if n]
    mentions = [
        p
        for p, text in graph.texts.items()
        if (is_test(p) or p.endswith("conftest.py")) and any(n in text for n in needles)
    ]
    if mentions:
        return SelectedTest(mentions[0], None, "file", f"mentions {path}")
    named = _stem_tests(path, paths, is_test)
    if named:
        return SelectedTest(
            named[0], None, "file", f"naming: {named[0]} matches {path} (no test imports it)"
        )
    return SelectedTest("", None, "suite", f"fallback: unmapped file {path} (no test imports it)")


def _data_file(
    graph: PythonGraph,
    changed: ChangedFile,
    placement: Placement,
    paths: list[str],
    is_test,
    out: _Collected,
) -> tuple[str, str]:
    """Data files select the tests that read them: units whose strings name the file (or its
    folder, for readers that list a folder); else every test in the test tree holding it."""
    names = {PurePosixPath(changed.path).name}
    if changed.old_path:
        names.add(PurePosixPath(changed.old_path).name)
    folders = [f for f in PurePosixPath(changed.path).parent.parts if f not in (".", "")]
    tree = _test_tree(changed.path, paths, is_test)
    needles = set(names)
    if tree is not None and folders:
        needles.add(folders[-1])
    seeds: dict[Node, str] = {}
    for path, text in graph.texts.items():
        if not any(n in text for n in needles):
            continue
        for unit in graph.summary(path).units.values():
            if any(n in s for s in unit.strings for n in needles):
                node = ("b", path) if unit.name == MODULE else ("u", path, unit.name)
                seeds[node] = "reads data"
    if seeds:
        before = len(out)
        _collect(graph, reach(graph, seeds), is_test, changed.path, out)
        readers = sorted({n[1] for n in seeds})
        return "mentions", (
            f"read by {', '.join(readers[:3])}{' ...' if len(readers) > 3 else ''}; "
            f"{len(out) - before} test(s) or scope(s) reached"
        )
    if placement.kind == "inert":
        return "none", placement.reason
    if tree is not None:
        reason = f"data file in the test tree: {changed.path}"
        out.add(SelectedTest(tree, None, "directory", reason))
        return "directory", reason
    return "suite", f"fallback: unmapped file {changed.path}"


def _test_tree(path: str, paths: list[str], is_test) -> str | None:
    """The nearest folder above `path` (not the repository root) that holds tests."""
    parents = list(PurePosixPath(path).parents)[:-1]
    tests = [p for p in paths if is_test(p)]
    for folder in parents:
        prefix = str(folder) + "/"
        if any(t.startswith(prefix) for t in tests):
            return prefix
    return None
