"""git for the fixture builders (scripts/make_demo_repo.py, fixtures/history_repo/build.py): a fixed
identity, no global or system config, no signing, no hooks prompts, fixed dates when given, so the
repositories they build are the same on every machine."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def identity(name: str, email: str = "dev@example.com") -> dict[str, str]:
    return {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }


def run_git(dest: Path, who: dict[str, str], *args: str, date: str | None = None) -> str:
    """`git ARGS` in DEST as WHO; stdout, stripped. Raises RuntimeError with git's message."""
    env = {
        **os.environ,
        **who,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
    }
    for key in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(key, None)
    if date:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
    done = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "core.autocrlf=false", *args],
        cwd=dest,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()
