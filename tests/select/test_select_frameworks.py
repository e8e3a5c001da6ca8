"""Framework and package-manager detection from root manifests; pytest's settings."""

from __future__ import annotations

import json

import pytest

from code_assistant_lora.select.frameworks import detect, pytest_settings


def detected(files: dict[str, str]) -> list[tuple[str, str]]:
    data = {path: text.encode() for path, text in files.items()}
    return [(f.name, f.package_manager) for f in detect(list(data), data.get)]


TEST = {"tests/test_a.py": "import pytest\n\ndef test_a():\n    pass\n"}


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"requirements.txt": "pytest\n"}, ("pytest", "pip")),
        ({"uv.lock": ""}, ("pytest", "uv")),
        ({"poetry.lock": ""}, ("pytest", "poetry")),
        ({"pyproject.toml": "[tool.pdm]\n"}, ("pytest", "pdm")),
        ({"pyproject.toml": "[tool.hatch.envs.default]\n"}, ("pytest", "hatch")),
    ],
)
def test_python_managers(extra, expected):
    assert detected({**TEST, **extra})[0] == expected


def test_unittest_when_nothing_points_to_pytest():
    files = {"tests/test_a.py": "import unittest\n\nclass T(unittest.TestCase):\n    pass\n"}
    assert detected(files) == [("unittest", "pip")]
    assert detected({**files, "conftest.py": ""})[0][0] == "pytest"


@pytest.mark.parametrize(
    ("lock", "manager"), [("pnpm-lock.yaml", "pnpm"), ("yarn.lock", "yarn"), (None, "npm")]
)
@pytest.mark.parametrize("runner", ["jest", "vitest"])
def test_javascript(lock, manager, runner):
    files = {"package.json": json.dumps({"devDependencies": {runner: "1"}})}
    if lock:
        files[lock] = ""
    assert detected(files) == [(runner, manager)]


def test_native_toolchains():
    assert detected({"go.mod": "module x\n"}) == [("go", "go")]
    assert detected({"Cargo.toml": "[package]\n"}) == [("cargo", "cargo")]
    assert detected({"pom.xml": "<project/>"}) == [("maven", "maven")]
    assert detected({"build.gradle.kts": ""}) == [("gradle", "gradle")]


def test_manifests_below_the_root_are_not_the_repository_s_own():
    assert detected({"fixtures/app/package.json": '{"devDependencies": {"jest": "1"}}'}) == []


def test_a_mixed_repository_lists_every_framework():
    files = {**TEST, "package.json": '{"devDependencies": {"vitest": "1"}}', "go.mod": ""}
    assert detected(files) == [("pytest", "pip"), ("vitest", "npm"), ("go", "go")]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("pytest.ini", "[pytest]\npython_files = check_*.py\n"),
        ("pyproject.toml", '[tool.pytest.ini_options]\npython_files = ["check_*.py"]\n'),
        ("tox.ini", "[pytest]\npython_files = check_*.py\n"),
        ("setup.cfg", "[tool:pytest]\npython_files =\n    check_*.py\n"),
    ],
)
def test_pytest_settings_from_each_config_file(name, text):
    settings = pytest_settings({name: text.encode()}.get)
    assert settings.config_file == name
    assert settings.is_test_file("tests/check_a.py")
    assert not settings.is_test_file("tests/test_a.py")
    assert not settings.is_test_file("tests/conftest.py")


def test_default_pytest_settings():
    settings = pytest_settings({}.get)
    assert settings.is_test_file("a/test_x.py") and settings.is_test_file("x_test.py")
    assert not settings.is_test_file("a/x.py")
