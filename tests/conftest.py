"""Shared fixtures: real git repositories in tmp dirs, cheap to make."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from git_repos import GIT_ENV, GitRepo  # noqa: E402


@pytest.fixture
def git_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A factory of real git repos under tmp_path: `git_repo()` or `git_repo("name")`."""
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    made = 0

    def make(name: str | None = None) -> GitRepo:
        nonlocal made
        made += 1
        path = tmp_path / (name or f"repo{made}")
        path.mkdir(parents=True)
        return GitRepo(path)

    return make


@pytest.fixture(autouse=True)
def _no_global_git_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    home = tmp_path_factory.getbasetemp() / "home"
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("GIT_DIR", raising=False)
    monkeypatch.delenv("GIT_INDEX_FILE", raising=False)
    os.environ.setdefault("NO_COLOR", "1")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-layer Llama with a locally trained BPE tokenizer, saved with save_pretrained."""
    from tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def tiny_adapter(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A LoRA adapter (r=4 on q/v projections) over `tiny_model`, named `python-reviewer`."""
    from tiny_model import build_tiny_adapter

    return build_tiny_adapter(tiny_model, tmp_path_factory.mktemp("adapters") / "python-reviewer")


# --- pre-commit: one snapshot of this checkout and one PRE_COMMIT_HOME for every hook test, so the
# hook environment (pip install of the project) is built once per session.

PROJECT = Path(__file__).resolve().parents[1]


def _project_snapshot(tmp_path_factory) -> Path:
    """try-repo needs a git repo: snapshot this checkout (committed or not) into one."""
    snapshot = tmp_path_factory.mktemp("hook-repo")
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\x00")
    for raw in files:
        if not raw:
            continue
        source = PROJECT / raw.decode()
        if source.is_file():
            target = snapshot / raw.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    subprocess.run(["git", "init", "-q"], cwd=snapshot, check=True)
    subprocess.run(["git", "add", "-A"], cwd=snapshot, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "snapshot"], cwd=snapshot, check=True)
    return snapshot


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory) -> Path:
    return _project_snapshot(tmp_path_factory)


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")
