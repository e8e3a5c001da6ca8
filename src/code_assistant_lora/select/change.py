"""The change that test selection reasons about: both sides of every changed file and the files of
the new tree.

Selection needs what `changes.py` (built for review) does not give: the *old* content of every
changed file (to locate a change to the units it touched), the merge-base-to-working-tree
comparison that `pytest --changed-only` runs against, and every file of the new tree. It talks to
plain `git` subprocesses, not GitPython, because the whole selection must stay well under half a
second on a 1,000-module repository.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..changes import EMPTY_TREE, OWN_DIRS
from ..errors import EXIT_ENVIRONMENT, UserError


@dataclass(frozen=True)
class ChangedFile:
    path: str  # new path (the old one for deletions), repo-relative with /
    status: str  # added | modified | deleted | renamed
    old_path: str | None = None
    old: bytes | None = None
    new: bytes | None = None

    def to_dict(self) -> dict:
        return {"path": self.path, "status": self.status, "old_path": self.old_path}


@dataclass
class Change:
    """A change plus a reader for the tree it leads to."""

    root: Path
    kind: str  # worktree | range | staged
    base: str | None  # the ref asked for (None: default)
    base_commit: str | None  # what the old side is (None: empty tree)
    head: str | None
    files: list[ChangedFile]
    paths: list[str] = field(default_factory=list)  # every file of the new tree
    read: Callable[[str], bytes | None] = field(default=lambda path: None, repr=False)

    def source(self) -> dict:
        return {
            "kind": self.kind,
            "base": self.base,
            "base_commit": self.base_commit,
            "head": self.head,
        }


def git(root: Path | str, *args: str, ok: tuple[int, ...] = (0,)) -> bytes:
    """Run git in `root`; a failure the user caused becomes a UserError naming the command."""
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=root,
            capture_output=True,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"},
        )
    except FileNotFoundError:
        raise UserError("git is not installed or not on PATH", EXIT_ENVIRONMENT) from None
    if done.returncode not in ok:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UserError(f"git {args[0]} failed: {detail[-1] if detail else done.returncode}")
    return done.stdout


def repo_root(path: str | os.PathLike) -> Path:
    target = Path(path)
    if not target.is_dir():
        raise UserError(f"--repo {path}: no such directory")
    try:
        out = git(target, "rev-parse", "--show-toplevel")
    except UserError:
        raise UserError(f"{path}: not a git repository") from None
    return Path(out.decode().strip())


def resolve(root: Path, ref: str, role: str) -> str:
    out = git(
        root, "rev-parse", "--verify", "--quiet", "--end-of-options", ref + "^{commit}", ok=(0, 1)
    )
    if not out.strip():
        if git(root, "rev-parse", "--is-shallow-repository").strip() == b"true":
            raise UserError(
                f"{role} ref {ref!r} is not in this shallow clone; fetch full history "
                "(actions/checkout with fetch-depth: 0, or git fetch --unshallow)"
            )
        raise UserError(f"unknown {role} ref {ref!r}: no such commit in {root}")
    return out.decode().strip()


def has_head(root: Path) -> bool:
    return bool(git(root, "rev-parse", "--verify", "--quiet", "HEAD", ok=(0, 1)).strip())


def head_commit(root: Path) -> str | None:
    return resolve(root, "HEAD", "head") if has_head(root) else None


def merge_base(root: Path, a: str, b: str) -> str:
    out = git(root, "merge-base", a, b, ok=(0, 1))
    if not out.strip():
        raise UserError(f"{a[:12]!r} and {b[:12]!r} share no history: nothing to compare")
    return out.decode().strip()


def default_base(root: Path) -> tuple[str | None, str]:
    """The commit `--changed-only` compares against, and how it was chosen: the merge base with
    the upstream branch, else with origin/main (or origin/master), else HEAD."""
    if not has_head(root):
        return None, "empty repository"
    upstream = git(
        root, "rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}", ok=(0, 128)
    )
    candidates = [upstream.decode().strip()] if upstream.strip() else []
    candidates += ["origin/main", "origin/master"]
    for ref in candidates:
        found = git(root, "rev-parse", "--verify", "--quiet", ref + "^{commit}", ok=(0, 1)).strip()
        if found:
            return merge_base(root, found.decode(), "HEAD"), f"merge base with {ref}"
    return resolve(root, "HEAD", "head"), "HEAD"


def cat_files(root: Path, specs: list[str]) -> list[bytes | None]:
    """Contents of `REV:PATH` specs in one `git cat-file --batch` call (None when missing)."""
    if not specs:
        return []
    done = subprocess.run(
        ["git", "cat-file", "--batch"],
        cwd=root,
        input="".join(spec + "\n" for spec in specs).encode("utf-8", "surrogateescape"),
        capture_output=True,
        check=False,
    )
    data, out, at = done.stdout, [], 0
    for _ in specs:
        end = data.index(b"\n", at)
        header = data[at:end].split()
        at = end + 1
        if len(header) < 3 or header[-1] == b"missing":
            out.append(None)
            continue
        size = int(header[2])
        out.append(data[at : at + size])
        at += size + 1
    return out


def _split_z(data: bytes) -> list[str]:
    return [p.decode("utf-8", "surrogateescape") for p in data.split(b"\x00") if p]


def _name_status(data: bytes) -> list[tuple[str, str, str | None]]:
    """(status letter, path, old path) from `git diff --name-status -z`."""
    fields = _split_z(data)
    out, i = [], 0
    while i < len(fields):
        letter = fields[i][0]
        if letter in "RC":
            out.append((letter, fields[i + 2], fields[i + 1]))
            i += 3
        else:
            out.append((letter, fields[i + 1], None))
            i += 2
    return out


def _own(path: str) -> bool:
    return path.startswith(OWN_DIRS)


_DIFF = ("diff", "--no-ext-diff", "--no-textconv", "--no-color", "-M", "-z", "--name-status")


def collect(
    repo: str | os.PathLike,
    base: str | None = None,
    head: str | None = None,
    staged: bool = False,
) -> Change:
    """The change the user asked for: `head`'s changes since its merge base with `base`, the
    index against HEAD (`staged`), or the working tree (untracked files included) against the
    merge base with `base` (default: see `default_base`)."""
    root = repo_root(repo)
    if staged and (base or head):
        raise UserError("choose one change source, not --base/--head and --staged")
    if head and not base:
        raise UserError("--head needs --base")
    if staged:
        base_commit = head_commit(root)
        against = base_commit or EMPTY_TREE
        entries = _name_status(git(root, *_DIFF, "--cached", against, "--"))
        kind, head_label = "staged", "INDEX"
    elif head:
        head_sha = resolve(root, head, "head")
        base_commit = merge_base(root, resolve(root, base, "base"), head_sha)
        entries = _name_status(git(root, *_DIFF, base_commit, head_sha, "--"))
        kind, head_label = "range", head
    else:
        if base:
            head_sha = resolve(root, "HEAD", "head") if has_head(root) else None
            base_sha = resolve(root, base, "base")
            base_commit = merge_base(root, base_sha, head_sha) if head_sha else base_sha
        else:
            base_commit, _how = default_base(root)
        against = base_commit or EMPTY_TREE
        entries = _name_status(git(root, *_DIFF, against, "--"))
        seen = {path for _, path, _ in entries}
        untracked = _split_z(git(root, "ls-files", "-z", "--others", "--exclude-standard"))
        entries += [("A", path, None) for path in untracked if path not in seen]
        kind, head_label = "worktree", "WORKTREE"
    entries = [e for e in entries if not _own(e[1])]

    if kind == "worktree":

        def read(path: str) -> bytes | None:
            target = root / path
            try:
                return None if target.is_symlink() else target.read_bytes()
            except OSError:
                return None

        paths = [
            p
            for p in _split_z(
                git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
            )
            if not _own(p) and (root / p).is_file()
        ]
    else:
        prefix = f"{head_label}:" if kind == "range" else ":"
        if kind == "range":
            paths = _split_z(git(root, "ls-tree", "-r", "-z", "--name-only", head_label, "--"))
        else:
            paths = _split_z(git(root, "ls-files", "-z", "--cached"))
        paths = [p for p in dict.fromkeys(paths) if not _own(p)]
        cache: dict[str, bytes | None] = {}

        def read(path: str) -> bytes | None:
            if path not in cache:
                cache[path] = cat_files(root, [prefix + path])[0]
            return cache[path]

        wanted = [p for p in paths if p.endswith(".py")]
        for path, content in zip(
            wanted, cat_files(root, [prefix + p for p in wanted]), strict=True
        ):
            cache[path] = content

    olds = cat_files(
        root, [f"{base_commit}:{old or path}" for _, path, old in entries] if base_commit else []
    ) or [None] * len(entries)
    files = []
    for (letter, path, old_path), old in zip(entries, olds, strict=True):
        status = {"A": "added", "D": "deleted", "R": "renamed", "C": "added"}.get(
            letter, "modified"
        )
        new = None if status == "deleted" else read(path)
        if status == "added":
            old = None
        files.append(
            ChangedFile(
                path=path,
                status=status,
                old_path=old_path if status == "renamed" else None,
                old=old,
                new=new,
            )
        )
    return Change(
        root=root,
        kind=kind,
        base=base,
        base_commit=base_commit,
        head=head_label,
        files=files,
        paths=paths,
        read=read,
    )


def blob_id(content: bytes) -> str:
    """Git's id for these bytes: the cache key of a file's summary."""
    return hashlib.sha1(b"blob %d\x00" % len(content) + content, usedforsecurity=False).hexdigest()
