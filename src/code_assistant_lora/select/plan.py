"""The plan of a `code-assistant test` run: for each detected framework, what is selected (with
reasons) and the exact command that runs it. Commands are argument lists, never shell text."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .change import Change
from .engine import SelectedTest, Selection
from .frameworks import Framework

_PYTHON_MANAGERS = {
    "uv": ["uv", "run", "--"],
    "poetry": ["poetry", "run"],
    "pdm": ["pdm", "run"],
    "hatch": ["hatch", "run"],
}
_JS_EXEC = {"npm": ["npx", "--no-install"], "pnpm": ["pnpm", "exec"], "yarn": ["yarn"]}
JS_CONFIG = (
    "jest.config.",
    "vitest.config.",
    "vite.config.",
    "babel.config.",
    ".babelrc",
    "tsconfig",
)


@dataclass(frozen=True)
class Plan:
    framework: Framework
    selected: tuple[SelectedTest, ...]
    command: tuple[str, ...]  # empty: nothing to run
    results: str | None  # where the framework writes machine-readable results
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            **self.framework.to_dict(),
            "command": list(self.command),
            "results": self.results,
            "notes": list(self.notes),
        }


def python_executable(root: Path) -> str:
    """The repository's own virtualenv when it has one, else this interpreter."""
    for candidate in (".venv/bin/python", "venv/bin/python", ".venv/Scripts/python.exe"):
        if (root / candidate).is_file():
            return str(root / candidate)
    return sys.executable


def _python_prefix(framework: Framework, root: Path) -> tuple[list[str], list[str]]:
    manager = _PYTHON_MANAGERS.get(framework.package_manager)
    if manager and shutil.which(manager[0]):
        return [*manager, "python"], []
    note = []
    if manager:
        note.append(f"{manager[0]} not on PATH: using {python_executable(root)}")
    return [python_executable(root)], note


def plan_pytest(
    framework: Framework,
    selection: Selection,
    root: Path,
    results: Path,
    passthrough: tuple[str, ...],
    everything: bool,
) -> Plan:
    prefix, notes = _python_prefix(framework, root)
    base = [*prefix, "-m", "pytest", f"--junitxml={results}", "-p", "no:cacheprovider"]
    if everything:
        return Plan(framework, (), tuple(base + list(passthrough)), str(results), tuple(notes))
    if selection.whole_suite is not None:
        return Plan(
            framework, selection.tests, tuple(base + list(passthrough)), str(results), tuple(notes)
        )
    if not selection.tests:
        if selection.import_checks:
            notes.append("nothing selected: importing the changed modules instead")
            command = [*prefix, "-c", _IMPORT_CHECK, _import_spec(selection)]
            return Plan(framework, (), tuple(command), None, tuple(notes))
        return Plan(framework, (), (), None, ("nothing selected",))
    nodeids = list(dict.fromkeys(t.nodeid for t in selection.tests))
    if sum(len(n) for n in nodeids) > 100_000:
        notes.append("too many node ids for one command line: running the selected files whole")
        nodeids = list(dict.fromkeys(t.nodeid.split("::")[0] for t in selection.tests))
    command = base + list(passthrough) + ["--", *nodeids]
    return Plan(framework, selection.tests, tuple(command), str(results), tuple(notes))


# Nothing selected, Python changed: the changed modules must still import. A module missing
# before the change too (a Windows-only import on Linux) is not the change's fault.
_IMPORT_CHECK = """import importlib, json, sys
spec = json.loads(sys.argv[1])
sys.path[:0] = spec["roots"]
for name in spec["modules"]:
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in spec["before"].get(name, []):
            raise
        print(f"skipped {name}: {exc.name} was missing before the change too")
"""


def _import_spec(selection: Selection) -> str:
    import json

    return json.dumps(
        {
            "roots": list(selection.import_roots),
            "modules": list(selection.import_checks),
            "before": {name: list(found) for name, found in selection.imported_before},
        }
    )


def _unittest_id(test: SelectedTest) -> str:
    module = test.path[:-3].replace("/", ".") if test.path.endswith(".py") else test.path
    return f"{module}.{test.name}" if test.name else module


def plan_unittest(
    framework: Framework,
    selection: Selection,
    root: Path,
    passthrough: tuple[str, ...],
    everything: bool,
) -> Plan:
    prefix, notes = _python_prefix(framework, root)
    base = [*prefix, "-m", "unittest"]
    if everything or selection.whole_suite is not None:
        tests = () if everything else selection.tests
        return Plan(framework, tests, tuple(base + ["discover", *passthrough]), None, tuple(notes))
    if not selection.tests:
        if selection.import_checks:
            command = [*prefix, "-c", _IMPORT_CHECK, _import_spec(selection)]
            return Plan(framework, (), tuple(command), None, ("nothing selected: import check",))
        return Plan(framework, (), (), None, ("nothing selected",))
    folders = [t for t in selection.tests if t.scope == "directory"]
    if folders:
        command = base + ["discover", "-s", folders[0].path.rstrip("/") or ".", "-t", "."]
        notes.append("a folder is selected: discovering it whole")
        return Plan(
            framework, selection.tests, tuple(command + list(passthrough)), None, tuple(notes)
        )
    ids = list(dict.fromkeys(_unittest_id(t) for t in selection.tests))
    return Plan(
        framework, selection.tests, tuple(base + list(passthrough) + ids), None, tuple(notes)
    )


def plan_javascript(
    framework: Framework,
    change: Change,
    results: Path,
    passthrough: tuple[str, ...],
    everything: bool,
) -> Plan:
    from . import jsgraph
    from .safety import classify

    runner = _JS_EXEC[framework.package_manager] + [framework.name]
    changed = [f.path for f in change.files]
    whole = [
        f.path
        for f in change.files
        if classify(f.path, f.old, f.new).kind == "suite"
        or PurePosixPath(f.path).name.startswith(JS_CONFIG)
    ]
    sources = [p for p in changed if jsgraph.is_source(p)]
    if framework.name == "jest":
        output = ["--ci", "--json", f"--outputFile={results}"]
        if everything or whole:
            command = runner + output
        elif sources:
            command = runner + output + ["--passWithNoTests", "--findRelatedTests", *sources]
        else:
            return Plan(framework, (), (), None, ("no JavaScript or TypeScript file changed",))
    else:
        output = ["--reporter=default", "--reporter=junit", f"--outputFile.junit={results}"]
        if everything or whole:
            command = runner + ["run", *output]
        elif sources:
            command = runner + ["related", "--run", "--passWithNoTests", *output, *sources]
        else:
            return Plan(framework, (), (), None, ("no JavaScript or TypeScript file changed",))
    if everything:
        selected: tuple[SelectedTest, ...] = ()
    elif whole:
        selected = (SelectedTest("", None, "suite", f"dependency or config changed: {whole[0]}"),)
    else:
        related = jsgraph.related_tests(sources, change.paths, change.read)
        selected = tuple(
            SelectedTest(
                test,
                None,
                "file",
                "changed" if len(chain) == 1 else f"imports {chain[-1]} via {' -> '.join(chain)}",
            )
            for test, chain in sorted(related.items())
        )
    return Plan(framework, selected, tuple(command + list(passthrough)), str(results))


def _nearest(path: str, markers: tuple[str, ...], paths: set[str]) -> str | None:
    """The closest folder at or above `path` holding one of `markers` ("" for the root)."""
    for folder in [*PurePosixPath(path).parents]:
        prefix = "" if str(folder) == "." else f"{folder}/"
        if any(prefix + marker in paths for marker in markers):
            return prefix.rstrip("/")
    return None


_NATIVE = {
    # framework: (source suffixes, manifest names that mark a unit)
    "go": ((".go",), ("go.mod",)),
    "cargo": ((".rs",), ("Cargo.toml",)),
    "maven": ((".java", ".kt", ".xml", ".properties"), ("pom.xml",)),
    "gradle": (
        (".java", ".kt", ".kts", ".gradle", ".properties"),
        ("build.gradle", "build.gradle.kts"),
    ),
}


def plan_native(
    framework: Framework, change: Change, passthrough: tuple[str, ...], everything: bool
) -> Plan:
    """go test (the packages of changed files), cargo test (their crates), Maven and Gradle (their
    modules, as whole units). A root manifest change runs everything."""
    from .safety import classify

    paths = set(change.paths)
    name = framework.name
    suffixes, manifests = _NATIVE[name]
    relevant = [
        f
        for f in change.files
        if f.path.endswith(suffixes) or PurePosixPath(f.path).name in manifests
    ]
    root_change = next(
        (
            f.path
            for f in relevant
            if "/" not in f.path and classify(f.path, f.old, f.new).kind == "suite"
        ),
        None,
    )
    if name == "go":
        units = sorted(
            {str(PurePosixPath(f.path).parent) for f in relevant if f.path.endswith(".go")}
        )
    else:
        units = sorted({u for f in relevant if (u := _nearest(f.path, manifests, paths))})
    if everything or root_change:
        selected = (
            ()
            if everything
            else (SelectedTest("", None, "suite", f"dependency manifest changed: {root_change}"),)
        )
        units = []
    elif not relevant:
        return Plan(framework, (), (), None, (f"no {name} source changed",))
    else:
        kind = "package" if name == "go" else "module"
        selected = tuple(
            SelectedTest(
                f"{u}/" if u not in ("", ".") else "",
                None,
                "directory",
                f"{kind} of a changed file",
            )
            for u in units or [""]
        )
    if name == "go":
        targets = [f"./{u}" if u != "." else "." for u in units] or ["./..."]
        command = ["go", "test", "-json", *passthrough, *targets]
    elif name == "cargo":
        crates = [c for c in (_crate_name(change, u) for u in units) if c]
        command = ["cargo", "test", *[a for c in crates for a in ("-p", c)], *passthrough]
    elif name == "maven":
        modules = ["-pl", ",".join(units), "-amd"] if units else []
        command = ["mvn", "-B", *modules, "test", *passthrough]
    else:
        gradle = "./gradlew" if "gradlew" in paths else "gradle"
        tasks = [f":{u.replace('/', ':')}:test" for u in units] or ["test"]
        command = [gradle, *tasks, *passthrough]
    return Plan(framework, selected, tuple(command), None)


def _crate_name(change: Change, folder: str) -> str | None:
    import re

    data = change.read(f"{folder}/Cargo.toml" if folder else "Cargo.toml")
    if data is None:
        return None
    match = re.search(r'^\s*name\s*=\s*"([^"]+)"', data.decode("utf-8", "replace"), re.M)
    return match.group(1) if match else None
