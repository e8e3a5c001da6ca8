"""Safety rules: how a changed file that is not ordinary Python source is placed.

Test configuration, dependency manifests and lock files change what every test runs against, so
they select the whole suite; a `conftest.py` selects its folder; documentation and repository
metadata that no test reads select nothing (unless a test or the test configuration names them);
anything else is a data file, placed by who mentions it (see the engine).
"""

from __future__ import annotations

import configparser
import sys
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import PurePosixPath

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


@dataclass(frozen=True)
class Placement:
    """kind: python (the import graph places it), suite, directory, inert (read by nothing) or
    data (placed by who mentions it)."""

    kind: str
    reason: str = ""
    directory: str | None = None

    def to_dict(self) -> dict:
        out = {"kind": self.kind, "reason": self.reason}
        if self.directory is not None:
            out["directory"] = self.directory
        return out


TEST_CONFIG = frozenset({"pytest.ini", ".pytest.ini", "tox.ini", "noxfile.py", ".coveragerc"})
MANIFESTS = (
    "setup.py",
    "requirements*.txt",
    "requirements/*.txt",
    "requirements-*.txt",
    "constraints*.txt",
    "Pipfile",
    "Pipfile.lock",
    "poetry.lock",
    "pdm.lock",
    "uv.lock",
    "package.json",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "pnpm-workspace.yaml",
    "go.mod",
    "go.sum",
    "Cargo.toml",
    "Cargo.lock",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "settings.gradle",
    "settings.gradle.kts",
    "gradle.properties",
    ".python-version",
    ".tool-versions",
    "runtime.txt",
    "environment.yml",
    "environment.yaml",
)
INERT_NAMES = (
    "LICENSE*",
    "LICENCE*",
    "COPYING*",
    "AUTHORS*",
    "CHANGELOG*",
    "CHANGES*",
    "NEWS*",
    "HISTORY*",
    "CONTRIBUTING*",
    "CODE_OF_CONDUCT*",
    "SECURITY*",
    "CITATION*",
    "RELEASING*",
    ".gitignore",
    ".gitattributes",
    ".editorconfig",
    ".mailmap",
    ".git-blame-ignore-revs",
    ".pre-commit-config.yaml",
    ".readthedocs.y*ml",
    "codecov.y*ml",
    ".codecov.y*ml",
    ".gitlab-ci.yml",
    ".travis.yml",
    "appveyor.yml",
    "azure-pipelines.yml",
    "Jenkinsfile",
)
INERT_SUFFIXES = frozenset(
    {".md", ".rst", ".adoc", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".ico"}
)
INERT_FOLDERS = ("docs/", "doc/", ".github/", "changelog.d/", "newsfragments/")

# pyproject.toml tables and setup.cfg sections that only other tools read.
PYPROJECT_INERT = frozenset(
    {
        "tool.ruff",
        "tool.black",
        "tool.isort",
        "tool.mypy",
        "tool.pyright",
        "tool.pylint",
        "tool.codespell",
        "tool.bumpversion",
        "tool.towncrier",
        "tool.commitizen",
        "tool.docformatter",
        "tool.interrogate",
        "tool.check-manifest",
        "tool.flake8",
        "tool.pydocstyle",
        "tool.code-assistant",
        "project.description",
        "project.readme",
        "project.authors",
        "project.maintainers",
        "project.urls",
        "project.classifiers",
        "project.keywords",
        "project.license",
    }
)
SETUP_CFG_INERT = frozenset(
    {"flake8", "pycodestyle", "pydocstyle", "isort", "codespell", "check-manifest", "bdist_wheel"}
)


def _matches(path: str, patterns) -> bool:
    name = PurePosixPath(path).name
    return any(fnmatchcase(name, p) or fnmatchcase(path, p) for p in patterns)


def classify(path: str, old: bytes | None, new: bytes | None) -> Placement:
    """Where a changed file lands before the import graph is consulted."""
    name = PurePosixPath(path).name
    if name == "conftest.py":
        folder = str(PurePosixPath(path).parent)
        folder = "" if folder == "." else folder + "/"
        return Placement("directory", f"conftest changed: {path}", folder)
    if name in TEST_CONFIG:
        return Placement("suite", f"test configuration changed: {path}")
    if name == "pyproject.toml":
        return _pyproject(path, old, new)
    if name == "setup.cfg":
        return _setup_cfg(path, old, new)
    if _matches(path, MANIFESTS):
        return Placement("suite", f"dependency manifest changed: {path}")
    if path.endswith(".py"):
        return Placement("python")
    if _matches(path, INERT_NAMES) or path.startswith(INERT_FOLDERS):
        return Placement("inert", f"not read by tests: {path}")
    if PurePosixPath(path).suffix.lower() in INERT_SUFFIXES:
        return Placement("inert", f"not read by tests: {path}")
    return Placement("data")


def _flatten(table: dict, prefix: str = "", depth: int = 0) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and depth < 2:
            out.update(_flatten(value, name + ".", depth + 1))
        else:
            out[name] = value
    return out


def _pyproject(path: str, old: bytes | None, new: bytes | None) -> Placement:
    try:
        before = _flatten(tomllib.loads((old or b"").decode("utf-8")))
        after = _flatten(tomllib.loads((new or b"").decode("utf-8")))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return Placement("suite", f"test configuration changed: {path} (does not parse)")
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    relevant = [k for k in changed if not _inert_key(k)]
    if not relevant:
        return Placement("inert", f"not read by tests: {path} ({', '.join(changed) or 'format'})")
    kind = (
        "dependency manifest"
        if any(_is_dependency_key(k) for k in relevant)
        else "test configuration"
    )
    return Placement("suite", f"{kind} changed: {path} [{', '.join(relevant[:3])}]")


def _inert_key(key: str) -> bool:
    return any(key == inert or key.startswith(inert + ".") for inert in PYPROJECT_INERT)


def _is_dependency_key(key: str) -> bool:
    return key.startswith(("project.", "build-system", "tool.poetry", "tool.pdm", "tool.uv"))


def _setup_cfg(path: str, old: bytes | None, new: bytes | None) -> Placement:
    def sections(data: bytes | None) -> dict[str, dict[str, str]]:
        parser = configparser.RawConfigParser(strict=False, interpolation=None)
        parser.read_string((data or b"").decode("utf-8", "replace"))
        return {s: dict(parser.items(s)) for s in parser.sections()}

    try:
        before, after = sections(old), sections(new)
    except configparser.Error:
        return Placement("suite", f"test configuration changed: {path} (does not parse)")
    changed = sorted(s for s in before.keys() | after.keys() if before.get(s) != after.get(s))
    relevant = [
        s for s in changed if s not in SETUP_CFG_INERT and not s.startswith(("mypy", "bumpversion"))
    ]
    if not relevant:
        return Placement("inert", f"not read by tests: {path} ({', '.join(changed) or 'format'})")
    return Placement("suite", f"test configuration changed: {path} [{', '.join(relevant[:3])}]")
