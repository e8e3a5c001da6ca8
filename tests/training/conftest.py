"""Fixtures for the dataset tests: the history fixture repository (built once per session from
fixtures/history_repo/), fresh copies to plant canaries in, and the training CLI run in-process."""

from __future__ import annotations

import importlib.util
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
_BUILDER = PROJECT / "fixtures" / "history_repo" / "build.py"


def _builder():
    spec = importlib.util.spec_from_file_location("history_repo_build", _BUILDER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def history_builder():
    """fixtures/history_repo/build.py as a module (`build`, `commit`, `git`)."""
    return _builder()


@pytest.fixture(scope="session")
def history_repo(tmp_path_factory, history_builder) -> Path:
    """The history fixture repository, shared: tests must not change it."""
    return history_builder.build(tmp_path_factory.mktemp("history") / "ledger")


@pytest.fixture
def history_copy(history_repo, tmp_path) -> Path:
    """A private copy of the history repository, free to add commits to."""
    target = tmp_path / "ledger"
    shutil.copytree(history_repo, target, symlinks=True)
    return target


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def train_cli(capsys):
    """Run `code-assistant-train ARGS...` in-process through its real entry point (exit codes,
    error lines and all); returns (code, stdout, stderr)."""
    from code_assistant_lora.training.cli import main

    def run(*args: str) -> Run:
        capsys.readouterr()
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run
