"""Which test frameworks a repository uses, with which package manager, and pytest's settings.

Detection reads manifests at the repository root only (package.json, go.mod, Cargo.toml,
pom.xml, build.gradle, pyproject.toml and friends), so fixture projects deeper in the tree are
never mistaken for the repository's own tests.
"""

from __future__ import annotations

import configparser
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import PurePosixPath

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

Reader = Callable[[str], bytes | None]


@dataclass(frozen=True)
class Framework:
    name: str  # pytest | unittest | jest | vitest | go | cargo | maven | gradle
    package_manager: (
        str  # pip | uv | poetry | pdm | hatch | npm | pnpm | yarn | go | cargo | maven | gradle
    )
    root: str = ""  # folder holding its manifest ("" for the repository root)

    def to_dict(self) -> dict:
        return {"name": self.name, "package_manager": self.package_manager, "root": self.root}


@dataclass(frozen=True)
class PytestSettings:
    """The parts of pytest's configuration that decide what a test file is."""

    python_files: tuple[str, ...] = ("test_*.py", "*_test.py")
    testpaths: tuple[str, ...] = ()
    addopts: str = ""
    config_file: str | None = None
    doctest_glob: tuple[str, ...] = field(default=())

    def is_test_file(self, path: str) -> bool:
        name = PurePosixPath(path).name
        if not name.endswith(".py") or name == "conftest.py":
            return False
        return any(fnmatchcase(name, p) or fnmatchcase(path, p) for p in self.python_files)

    @property
    def doctest_modules(self) -> bool:
        return "--doctest-modules" in self.addopts


def _text(read: Reader, path: str) -> str | None:
    data = read(path)
    return None if data is None else data.decode("utf-8", "replace")


def _ini_section(text: str, section: str) -> dict[str, str] | None:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    return dict(parser.items(section)) if parser.has_section(section) else None


def _words(value) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return tuple(str(value or "").split())


def pytest_settings(read: Reader) -> PytestSettings:
    """pytest's ini options from the first file pytest itself would read them from."""
    for name, section in (("pytest.ini", "pytest"), (".pytest.ini", "pytest")):
        text = _text(read, name)
        if text is not None:
            return _settings(_ini_section(text, section) or {}, name)
    text = _text(read, "pyproject.toml")
    if text is not None:
        try:
            tool = tomllib.loads(text).get("tool", {})
        except tomllib.TOMLDecodeError:
            tool = {}
        table = tool.get("pytest") if isinstance(tool, dict) else None
        if isinstance(table, dict):
            # pytest 9's native [tool.pytest] table, or the classic [tool.pytest.ini_options]
            options = table.get("ini_options", table)
            if isinstance(options, dict):
                return _settings(options, "pyproject.toml")
    for name, section in (("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")):
        text = _text(read, name)
        if text is not None:
            options = _ini_section(text, section)
            if options is not None:
                return _settings(options, name)
    return PytestSettings()


def _settings(options: dict, source: str) -> PytestSettings:
    files = _words(options.get("python_files")) or PytestSettings.python_files
    addopts = options.get("addopts", "")
    addopts = " ".join(addopts) if isinstance(addopts, list) else str(addopts)
    return PytestSettings(
        python_files=files,
        testpaths=_words(options.get("testpaths")),
        addopts=addopts,
        config_file=source,
        doctest_glob=tuple(re.findall(r"--doctest-glob[= ]+(\S+)", addopts)),
    )


def _python_manager(paths: set[str], pyproject: dict) -> str:
    tool = pyproject.get("tool", {}) if isinstance(pyproject, dict) else {}
    if "uv.lock" in paths or "uv" in tool:
        return "uv"
    if "poetry.lock" in paths or "poetry" in tool:
        return "poetry"
    if "pdm.lock" in paths or "pdm" in tool:
        return "pdm"
    if "hatch.toml" in paths or "envs" in tool.get("hatch", {}):
        return "hatch"
    return "pip"


_PYTHON_MARKERS = (
    "pyproject.toml",
    "setup.py",
    "setup.cfg",
    "requirements.txt",
    "tox.ini",
    "pytest.ini",
)


def detect(paths: list[str], read: Reader) -> list[Framework]:
    """Every framework the repository's root manifests point to, Python first."""
    present = set(paths)
    found: list[Framework] = []
    settings = pytest_settings(read)
    tests = [p for p in paths if settings.is_test_file(p)]
    if tests or present & set(_PYTHON_MARKERS):
        try:
            pyproject = tomllib.loads(_text(read, "pyproject.toml") or "")
        except tomllib.TOMLDecodeError:
            pyproject = {}
        manager = _python_manager(present, pyproject)
        if tests or settings.config_file:
            found.append(Framework(_python_runner(settings, paths, tests, read), manager))
    if "package.json" in present:
        found += _javascript(present, read)
    if "go.mod" in present:
        found.append(Framework("go", "go"))
    if "Cargo.toml" in present:
        found.append(Framework("cargo", "cargo"))
    if "pom.xml" in present:
        found.append(Framework("maven", "maven"))
    elif present & {"build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts"}:
        found.append(Framework("gradle", "gradle"))
    return found


def _python_runner(
    settings: PytestSettings, paths: list[str], tests: list[str], read: Reader
) -> str:
    """pytest unless nothing points to it and the tests are plain unittest."""
    if settings.config_file or any(PurePosixPath(p).name == "conftest.py" for p in paths):
        return "pytest"
    uses_unittest = False
    for path in tests[:50]:
        text = _text(read, path) or ""
        if re.search(r"^\s*(import pytest|from pytest\b)", text, re.M):
            return "pytest"
        if re.search(r"^\s*(import unittest|from unittest\b)", text, re.M):
            uses_unittest = True
    for manifest in (
        "pyproject.toml",
        "setup.cfg",
        "tox.ini",
        "requirements.txt",
        "requirements-dev.txt",
    ):
        if re.search(r"\bpytest\b", _text(read, manifest) or ""):
            return "pytest"
    return "unittest" if uses_unittest else "pytest"


def _javascript(present: set[str], read: Reader) -> list[Framework]:
    try:
        manifest = json.loads(_text(read, "package.json") or "{}")
    except ValueError:
        manifest = {}
    if not isinstance(manifest, dict):
        manifest = {}
    deps: dict = {}
    for key in ("dependencies", "devDependencies", "peerDependencies"):
        if isinstance(manifest.get(key), dict):
            deps.update(manifest[key])
    scripts = manifest.get("scripts") if isinstance(manifest.get("scripts"), dict) else {}
    test_script = str(scripts.get("test", ""))
    if "pnpm-lock.yaml" in present:
        manager = "pnpm"
    elif "yarn.lock" in present:
        manager = "yarn"
    else:
        manager = "npm"
    names = {PurePosixPath(p).name for p in present if "/" not in p}
    if (
        "vitest" in deps
        or "vitest" in test_script
        or any(n.startswith("vitest.config.") for n in names)
    ):
        return [Framework("vitest", manager)]
    if (
        "jest" in deps
        or "jest" in test_script
        or "jest" in manifest
        or any(n.startswith("jest.config.") for n in names)
    ):
        return [Framework("jest", manager)]
    return []
