"""Safety rules for files the import graph does not place."""

from __future__ import annotations

import pytest

from code_assistant_lora.select.safety import classify


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("tests/conftest.py", "directory"),
        ("conftest.py", "directory"),
        ("pytest.ini", "suite"),
        ("tox.ini", "suite"),
        ("requirements-dev.txt", "suite"),
        ("uv.lock", "suite"),
        ("package-lock.json", "suite"),
        ("go.sum", "suite"),
        ("pkg/mod.py", "python"),
        ("README.md", "inert"),
        ("docs/index.rst", "inert"),
        ("LICENSE", "inert"),
        (".github/workflows/ci.yml", "inert"),
        ("tests/data/x.json", "data"),
        ("src/pkg/templates/page.html", "data"),
    ],
)
def test_classify(path, kind):
    assert classify(path, b"", b"").kind == kind


def test_conftest_names_its_folder():
    placement = classify("tests/unit/conftest.py", b"", b"")
    assert placement.directory == "tests/unit/"
    assert placement.reason == "conftest changed: tests/unit/conftest.py"


def test_pyproject_tables_decide():
    ruff = classify("pyproject.toml", b"[tool.ruff]\nx = 1\n", b"[tool.ruff]\nx = 2\n")
    assert ruff.kind == "inert"
    deps = classify(
        "pyproject.toml",
        b'[project]\nname = "p"\ndependencies = []\n',
        b'[project]\nname = "p"\ndependencies = ["x"]\n',
    )
    assert (deps.kind, deps.reason) == (
        "suite",
        "dependency manifest changed: pyproject.toml [project.dependencies]",
    )
    broken = classify("pyproject.toml", b"", b"[tool\n")
    assert broken.kind == "suite" and "does not parse" in broken.reason


def test_setup_cfg_sections_decide():
    assert classify("setup.cfg", b"[flake8]\nx=1\n", b"[flake8]\nx=2\n").kind == "inert"
    pytest_section = classify("setup.cfg", b"[tool:pytest]\nx=1\n", b"[tool:pytest]\nx=2\n")
    assert pytest_section.reason == "test configuration changed: setup.cfg [tool:pytest]"
