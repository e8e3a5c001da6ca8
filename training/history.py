"""Reading git history for mining: commits, their file stats, patches and file versions.

Every git call is an argument list (never a shell), with literal pathspecs, no external diff or
text conversion drivers, and no colour, so repository content cannot change what runs.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError

_GIT = ("git", "--literal-pathspecs", "-c", "core.quotepath=off", "-c", "color.ui=never")
_FIELD = "\x1f"
MAX_BLOB_BYTES = 400_000


@dataclass(frozen=True)
class Commit:
    sha: str
    parents: tuple[str, ...]
    date: str  # author date, ISO 8601
    message: str

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0].strip()

    @property
    def body(self) -> str:
        return self.message.split("\n", 1)[1].strip() if "\n" in self.message else ""


@dataclass(frozen=True)
class FileStat:
    """One changed path: lines added and deleted (None for binary files)."""

    path: str
    added: int | None
    deleted: int | None
    old_path: str | None = None  # set for renames and copies

    @property
    def binary(self) -> bool:
        return self.added is None


def git(root: Path, *args: str, check: bool = True) -> bytes:
    try:
        done = subprocess.run([*_GIT, *args], cwd=root, capture_output=True, check=False)
    except FileNotFoundError:
        raise UserError("git is not installed or not on PATH") from None
    if check and done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UserError(f"git {args[0]} failed in {root}: {detail[-1] if detail else 'error'}")
    return done.stdout


_SINCE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d+\s+(?:second|minute|hour|day|week|month|year)s?(?:\s+ago)?"
)


def check_since(value: str) -> str:
    """`--since` as git reads it; only forms git cannot misread (it ignores what it cannot parse)."""
    if not _SINCE.fullmatch(value.strip()):
        raise UserError(
            f"--since {value!r}: expected a date (2024-05-01, 2024-05-01T12:00) or an age "
            "(90 days, 6 months)"
        )
    return value.strip()


def list_commits(
    root: Path, since: str | None = None, max_count: int | None = None
) -> list[Commit]:
    """Commits reachable from HEAD, newest first (merges included; callers decide)."""
    if not git(root, "rev-parse", "--verify", "--quiet", "HEAD", check=False).strip():
        raise UserError(f"{root}: the repository has no commits")
    args = ["log", "-z", f"--format=%H{_FIELD}%P{_FIELD}%aI{_FIELD}%B", "--topo-order"]
    if since:
        args.append(f"--since={check_since(since)}")
    if max_count is not None:
        args.append(f"--max-count={max_count}")
    commits = []
    for entry in git(root, *args, "HEAD").split(b"\x00"):
        if not entry.strip():
            continue
        sha, parents, date, message = entry.decode("utf-8", "replace").split(_FIELD, 3)
        commits.append(Commit(sha.strip(), tuple(parents.split()), date, message.strip()))
    return commits


def file_stats(root: Path, sha: str) -> list[FileStat]:
    """Changed paths of a (non-merge) commit against its parent, renames detected."""
    raw = git(root, "show", "-z", "--numstat", "-M", "--format=", "--no-ext-diff", sha)
    parts = raw.split(b"\x00")
    stats: list[FileStat] = []
    i = 0
    while i < len(parts):
        entry = parts[i].lstrip(b"\n")
        i += 1
        if not entry:
            continue
        added, deleted, path = entry.decode("utf-8", "surrogateescape").split("\t", 2)
        old = None
        if not path:  # a rename: old and new path follow as their own fields
            old = parts[i].decode("utf-8", "surrogateescape")
            path = parts[i + 1].decode("utf-8", "surrogateescape")
            i += 2
        counts = (None, None) if added == "-" else (int(added), int(deleted))
        stats.append(FileStat(path, counts[0], counts[1], old))
    return stats


_INDEX_LINE = re.compile(rb"^index [0-9a-f]+\.\.[0-9a-f]+(?: \d+)?\n", re.M)


def patch(root: Path, sha: str, paths: list[str]) -> str:
    """The commit's unified diff restricted to `paths` (old names of renames included), without
    `index` lines (blob ids teach nothing)."""
    raw = git(
        root,
        "show",
        "--format=",
        "-M",
        "--no-ext-diff",
        "--no-textconv",
        "--unified=3",
        sha,
        "--",
        *paths,
    )
    return _INDEX_LINE.sub(b"", raw).decode("utf-8", "replace")


class Blobs:
    """File versions through one `git cat-file --batch` process (one per mining run)."""

    def __init__(self, root: Path) -> None:
        self._process = subprocess.Popen(
            ["git", "cat-file", "--batch"],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )

    def text(self, rev: str, path: str) -> str | None:
        """`path` at `rev` as text; None when missing, binary, too large or not UTF-8."""
        if "\n" in path or "\r" in path:
            return None
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(f"{rev}:{path}\n".encode("utf-8", "surrogateescape"))
        self._process.stdin.flush()
        header = self._process.stdout.readline().split()
        if len(header) != 3:  # `<rev>:<path> missing`
            return None
        size = int(header[2])
        data = self._process.stdout.read(size + 1)[:-1]  # the content, then a newline
        if header[1] != b"blob" or size > MAX_BLOB_BYTES or b"\x00" in data[:8192]:
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=30)

    def __enter__(self) -> Blobs:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
