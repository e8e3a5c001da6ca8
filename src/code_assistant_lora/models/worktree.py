"""A throwaway `git worktree` at HEAD where model patches are tried, never the user's checkout.

The worktree lives in a fresh temporary folder and is removed (and pruned from the repository's
worktree list) on the way out, whether the loop ends, fails or is interrupted (Ctrl-C, SIGTERM).
Our git calls run with hooks switched off, so creating a worktree runs no repository hook."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import EXIT_ENVIRONMENT, UserError

GIT_TIMEOUT_S = 120


def git(cwd: Path, *args: str, ok: tuple[int, ...] = (0,)) -> str:
    """Run git (hooks off) in `cwd`; an unexpected exit becomes a UserError naming the command."""
    try:
        done = subprocess.run(
            ["git", "-c", "core.hooksPath=/dev/null", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=GIT_TIMEOUT_S,
            env={**os.environ, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"},
        )
    except FileNotFoundError:
        raise UserError("git is not installed or not on PATH", EXIT_ENVIRONMENT) from None
    if done.returncode not in ok:
        detail = done.stderr.strip().splitlines()
        raise UserError(
            f"git {args[0]} failed: {detail[-1] if detail else done.returncode}", EXIT_ENVIRONMENT
        )
    return done.stdout


@contextmanager
def temporary_worktree(root: Path) -> Iterator[Path]:
    """A detached worktree of `root`'s HEAD in a temporary folder, removed afterwards."""
    parent = Path(tempfile.mkdtemp(prefix="code-assistant-write-"))
    path = parent / "worktree"
    with _sigterm_as_interrupt():
        try:
            git(root, "worktree", "add", "--detach", "--quiet", str(path), "HEAD")
            yield path
        finally:
            git(root, "worktree", "remove", "--force", "--force", str(path), ok=(0, 128))
            shutil.rmtree(parent, ignore_errors=True)
            git(root, "worktree", "prune", ok=(0, 128))


def reset(worktree: Path) -> None:
    """Back to a clean HEAD: tracked edits undone, untracked and ignored files removed."""
    git(worktree, "reset", "--hard", "--quiet", "HEAD")
    git(worktree, "clean", "-ffdxq")


def staged_diff(worktree: Path) -> str:
    """Everything changed in the worktree, staged, as one git diff against HEAD (a/ b/ prefixes
    whatever the user's diff config says)."""
    git(worktree, "add", "-A")
    return git(
        worktree,
        "diff",
        "--cached",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--src-prefix=a/",
        "--dst-prefix=b/",
        "HEAD",
        "--",
    )


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt while the worktree exists, so cleanup still runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
