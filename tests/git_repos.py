"""Real git repositories in tmp dirs for tests: the identity environment and a small wrapper."""

from __future__ import annotations

from pathlib import Path

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
