"""Shared fixtures: real git repositories in tmp dirs, cheap to make."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


class GitRepo:
    """A real repository: write files, stage, commit, branch."""

    def __init__(self, path: Path) -> None:
        import git

        self.path = path
        self.repo = git.Repo.init(path, initial_branch="main")
        with self.repo.config_writer() as config:
            config.set_value("user", "name", "Test Author")
            config.set_value("user", "email", "author@example.com")
            config.set_value("commit", "gpgsign", "false")

    def write(self, relpath: str, content: str | bytes) -> Path:
        target = self.path / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
        return target

    def git(self, *args: str) -> str:
        return self.repo.git.execute(["git", *args])

    def stage(self, *paths: str) -> None:
        self.git("add", "-A", *(["--", *paths] if paths else []))

    def commit(self, message: str = "change", **files: str | bytes) -> str:
        for relpath, content in files.items():
            self.write(relpath, content)
        self.stage()
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.repo.head.commit.hexsha

    def branch(self, name: str) -> None:
        self.git("checkout", "-q", "-b", name)

    def checkout(self, name: str) -> None:
        self.git("checkout", "-q", name)


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
