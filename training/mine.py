"""`mine`: candidate training examples from a repository's git history.

Each commit worth teaching from gives up to three kinds of candidate, in the original toolkit's
record shape with provenance and a quality score in `meta`:
- the commit message -> its patch (`feature`, `bugfix`, `refactor`, `docs`, `tests`, `chore` or
  `change`, classified from the message first, then from what the diff touches);
- for a bug fix that adds or changes tests: the failing test -> the corrected code (`test_fix`);
- for each modified code file (small commits only): the file before -> the file after (`edit`).

Skipped, each with a counted reason: merges, reverts, fixup/WIP messages, commits that only touch
vendored, generated, lock, binary or banned files (those files are dropped from every other
commit too), bulk formatting, commits too large to teach from, and anything the strict secret scan
flags (message, patch or any file version shown).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..scan import language_of, repo_root, skip_reason_for_path
from .history import Blobs, Commit, FileStat, file_stats, list_commits, patch
from .paths import banned_reason
from .records import curated
from .secret_scan import holds_secret


@dataclass(frozen=True)
class MineOptions:
    since: str | None = None
    max_commits: int | None = None
    max_files: int = 12  # more changed files than this: too large to teach from
    max_changed_lines: int = 400
    max_edit_chars: int = 12_000  # largest file shown whole in an `edit` candidate
    max_context_chars: int = 16_000  # files shown as context for a commit's patch
    max_edit_files: int = 3  # commits touching more code files give no `edit` candidates


@dataclass
class MineResult:
    candidates: list[dict] = field(default_factory=list)
    commits_read: int = 0
    skipped: Counter = field(default_factory=Counter)

    def summary(self) -> str:
        kinds = Counter(c["meta"]["task"] for c in self.candidates)
        made = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none"
        skipped = ", ".join(f"{n} {why}" for why, n in self.skipped.most_common()) or "none"
        return (
            f"mined {len(self.candidates)} candidates ({made}) from {self.commits_read} commits; "
            f"skipped commits: {skipped}"
        )


# --- classification ------------------------------------------------------------------------------

_CONVENTIONAL = re.compile(
    r"^(feat|feature|fix|bugfix|hotfix|refactor|perf|docs?|tests?|chore|style|build|ci)(\([^)]*\))?!?:",
    re.I,
)
_CONVENTIONAL_KIND = {
    "feat": "feature",
    "feature": "feature",
    "fix": "bugfix",
    "bugfix": "bugfix",
    "hotfix": "bugfix",
    "refactor": "refactor",
    "perf": "refactor",
    "doc": "docs",
    "docs": "docs",
    "test": "tests",
    "tests": "tests",
    "chore": "chore",
    "style": "chore",
    "build": "chore",
    "ci": "chore",
}
_FIX = re.compile(
    r"\b(?:fix(?:e[sd]|ing)?|bugs?|bugfix|hotfix|crash(?:es|ed|ing)?|regression|broken|incorrect(?:ly)?"
    r"|wrong(?:ly)?|off-by-one|repair(?:s|ed)?|reject(?:s|ed)?|refuse[sd]?|prevent(?:s|ed)?)\b",
    re.I,
)
_REFACTOR = re.compile(
    r"\b(?:refactor\w*|renam(?:e[sd]?|ing)|mov(?:e[sd]?|ing)|extract(?:s|ed)?|simplif(?:y|ies|ied)"
    r"|clean(?:s|ed)?[ -]?up|restructur\w*|inline[sd]?|deduplicate[sd]?)\b",
    re.I,
)
_FEATURE = re.compile(
    r"\b(?:add(?:s|ed|ing)?|implement(?:s|ed)?|introduc(?:e[sd]?|ing)|support(?:s|ed)?|new"
    r"|creat(?:e[sd]?|ing)|allow(?:s|ed)?|enabl(?:e[sd]?|ing))\b",
    re.I,
)
_UNINFORMATIVE = re.compile(
    r"^(?:fixup!|squash!|amend!|wip\b|tmp\b|temp\b|\.|-|update|updates|changes|misc|minor|stuff"
    r"|fix|fixes|tweak|tweaks|test|cleanup|save|commit)\W*$",
    re.I,
)
_REVERT = re.compile(r"^revert\b|^reapply\b", re.I)
_TRAILER = re.compile(
    r"^(?:signed-off-by|co-authored-by|reviewed-by|acked-by|tested-by|reported-by|suggested-by"
    r"|helped-by|cc|change-id):.*$",
    re.I | re.M,
)
_FORMAT_WORDS = re.compile(
    r"\b(?:format(?:ted|ting)?|reformat\w*|black|prettier|isort|ruff format|lint|whitespace"
    r"|indent\w*)\b",
    re.I,
)


def role(path: str) -> str:
    """`test`, `doc`, `config` or `code` (the retrieval package's rules)."""
    from ..retrieve.roles import role_of

    return role_of(path, language_of(path))


def classify(commit: Commit, stats: list[FileStat]) -> str:
    """The kind of change: the message decides when it can, then what the diff touches."""
    conventional = _CONVENTIONAL.match(commit.subject)
    if conventional:
        return _CONVENTIONAL_KIND[conventional.group(1).lower()]
    roles = {role(s.path) for s in stats}
    if roles == {"doc"}:
        return "docs"
    if roles == {"test"}:
        return "tests"
    if _FIX.search(commit.subject):
        return "bugfix"
    if _REFACTOR.search(commit.subject):
        return "refactor"
    if _FEATURE.search(commit.subject):
        return "feature"
    added = sum(s.added or 0 for s in stats)
    deleted = sum(s.deleted or 0 for s in stats)
    if added >= 3 * max(deleted, 1):
        return "feature"
    return "change"


def message_text(commit: Commit) -> str:
    """The message as a task: trailers (sign-offs, co-authors and their emails) removed."""
    return re.sub(r"\n{3,}", "\n\n", _TRAILER.sub("", commit.message)).strip()


def _changed_lines(diff: str) -> dict[str, tuple[list[str], list[str]]]:
    """Removed and added lines per file of a unified diff."""
    files: dict[str, tuple[list[str], list[str]]] = {}
    current: tuple[list[str], list[str]] | None = None
    for line in diff.split("\n"):
        if line.startswith("diff --git "):
            current = files.setdefault(line.rsplit(" b/", 1)[-1], ([], []))
        elif current is None or line.startswith(("--- ", "+++ ")):
            continue
        elif line.startswith("-"):
            current[0].append(line[1:])
        elif line.startswith("+"):
            current[1].append(line[1:])
    return files


def _layout_only(removed: list[str], added: list[str]) -> bool:
    def squash(lines: list[str]) -> str:
        return re.sub(r"\s+", "", "".join(lines)).replace("'", '"').replace(",)", ")")

    return bool(removed) and squash(removed) == squash(added)


def is_bulk_formatting(commit: Commit, diff: str) -> bool:
    """Every changed file only re-laid out (whitespace, quotes, wrapping), or most of several
    files when the message says it formats."""
    changed = [(r, a) for r, a in _changed_lines(diff).values() if r or a]
    if not changed:
        return False
    layout = sum(_layout_only(r, a) for r, a in changed)
    if layout == len(changed):
        return True
    return (
        bool(_FORMAT_WORDS.search(commit.subject))
        and len(changed) >= 3
        and layout >= 0.6 * len(changed)
    )


def quality(commit: Commit, kind: str, stats: list[FileStat], with_context: bool) -> float:
    """0..1: how much a model can learn from the example (informative message, teachable size,
    tests with the change, context available)."""
    score = 0.5
    subject = commit.subject
    if len(subject) >= 20:
        score += 0.1
    elif len(subject) < 10:
        score -= 0.2
    if len(commit.body) >= 30:
        score += 0.15
    lines = sum((s.added or 0) + (s.deleted or 0) for s in stats)
    if 3 <= lines <= 150:
        score += 0.1
    elif lines > 300 or lines < 2:
        score -= 0.1
    if len(stats) <= 4:
        score += 0.05
    roles = {role(s.path) for s in stats}
    if "test" in roles and roles & {"code", "config"}:
        score += 0.1
    if kind in ("docs", "chore", "change"):
        score -= 0.15
    if with_context:
        score += 0.05
    return round(min(1.0, max(0.0, score)), 2)


# --- candidates ----------------------------------------------------------------------------------


def _fence(path: str, text: str) -> str:
    language = language_of(path)
    tag = language if language not in ("text",) else ""
    ticks = "````" if "```" in text else "```"
    return f"{ticks}{tag}\n{text.rstrip(chr(10))}\n{ticks}"


def _files_block(files: dict[str, str]) -> str:
    return "\n\n".join(f"`{path}`:\n{_fence(path, text)}" for path, text in files.items())


def _primary_path(stats: list[FileStat]) -> str:
    ranked = sorted(
        stats,
        key=lambda s: (
            role(s.path) not in ("code", "config"),
            -((s.added or 0) + (s.deleted or 0)),
            s.path,
        ),
    )
    return ranked[0].path


class _Miner:
    """One mining run: the repository, its options and one blob reader."""

    def __init__(self, root: Path, options: MineOptions, blobs: Blobs) -> None:
        self.root = root
        self.options = options
        self.blobs = blobs

    def skip_path(self, stat: FileStat) -> str | None:
        if stat.binary:
            return "binary file"
        for path in filter(None, (stat.path, stat.old_path)):
            reason = banned_reason(path) or skip_reason_for_path(path)
            if reason:
                return reason
        return None

    def candidates(self, commit: Commit) -> tuple[list[dict], str | None]:
        """The commit's candidates, or why it was skipped."""
        if len(commit.parents) > 1:
            return [], "merge commit"
        if _REVERT.search(commit.subject) or "This reverts commit" in commit.message:
            return [], "revert"
        if _UNINFORMATIVE.match(commit.subject) or len(commit.subject) < 4:
            return [], "uninformative message"
        stats = file_stats(self.root, commit.sha)
        kept, dropped = [], []
        for stat in stats:
            reason = self.skip_path(stat)
            (dropped if reason else kept).append((stat, reason))
        stats = [s for s, _ in kept]
        if not stats:
            if not dropped:
                return [], "no file changes"
            return [], f"only skipped paths ({re.sub(r' [^ ]+/$', '', dropped[0][1])})"
        lines = sum((s.added or 0) + (s.deleted or 0) for s in stats)
        if lines == 0:
            return [], "no text changes"
        if len(stats) > self.options.max_files or lines > self.options.max_changed_lines:
            return [], "too large to teach from"
        paths = sorted({p for s in stats for p in (s.path, s.old_path) if p})
        diff = patch(self.root, commit.sha, paths)
        message = message_text(commit)
        if is_bulk_formatting(commit, diff):
            return [], "bulk formatting"
        if holds_secret(message) or holds_secret(diff):
            return [], "holds a secret"
        parent = commit.parents[0] if commit.parents else None
        before = self._before_texts(parent, stats)
        if before is None:
            return [], "holds a secret"
        kind = classify(commit, stats)
        made = self._patch_candidate(commit, kind, stats, message, diff, before)
        fix = self._test_fix_candidate(commit, kind, stats, before)
        if fix is not None:
            made.append(fix)
        edits = self._edit_candidates(commit, kind, stats, message, before)
        if edits is None:
            return [], "holds a secret"
        return made + edits, None

    def _before_texts(self, parent: str | None, stats: list[FileStat]) -> dict[str, str] | None:
        """Pre-images of modified files; None when any of them holds a secret."""
        texts: dict[str, str] = {}
        if parent is None:
            return texts
        for stat in stats:
            source = stat.old_path or stat.path
            text = self.blobs.text(parent, source)
            if text is None:  # an added file (or one too large or binary to show)
                continue
            if holds_secret(text, source):
                return None
            texts[source] = text
        return texts

    def _meta(self, commit: Commit, task: str, paths: list[str], score: float, lines: int) -> dict:
        return {
            "task": task,
            "language": language_of(paths[0]),
            "source": "git",
            "commit": commit.sha,
            "date": commit.date,
            "paths": paths,
            "quality": score,
            "changed_lines": lines,
        }

    def _patch_candidate(self, commit, kind, stats, message, diff, before) -> list[dict]:
        context = {p: t for p, t in before.items() if role(p) != "doc"}
        shown = sum(len(t) for t in context.values()) <= self.options.max_context_chars
        instruction = message + "\n\nWrite this change as a unified diff (git format)."
        input_text = ""
        if shown and context:
            instruction += " The files it changes, before the change:"
            input_text = _files_block(context)
        else:
            files = ", ".join(f"`{s.path}`" for s in stats)
            instruction += f" It touches {files}."
        primary = _primary_path(stats)
        paths = [primary] + sorted(s.path for s in stats if s.path != primary)
        lines = sum((s.added or 0) + (s.deleted or 0) for s in stats)
        score = quality(commit, kind, stats, shown and bool(context))
        return [
            curated(instruction, diff, self._meta(commit, kind, paths, score, lines), input_text)
        ]

    def _test_fix_candidate(self, commit, kind, stats, before) -> dict | None:
        if kind != "bugfix":
            return None
        tests = [s for s in stats if role(s.path) == "test"]
        code = [s for s in stats if role(s.path) in ("code", "config")]
        if not tests or not code:
            return None
        test_diff = patch(self.root, commit.sha, sorted(s.path for s in tests))
        code_diff = patch(
            self.root, commit.sha, sorted({p for s in code for p in (s.path, s.old_path) if p})
        )
        if not test_diff.strip() or not code_diff.strip():
            return None
        context = {
            s.old_path or s.path: before[s.old_path or s.path]
            for s in code
            if (s.old_path or s.path) in before
        }
        shown = bool(context) and sum(map(len, context.values())) <= self.options.max_context_chars
        instruction = (
            "This test change fails against the current code:\n\n"
            + _fence("test.diff", test_diff)
            + "\n\nFix the code (not the test) so it passes. Answer with a unified diff."
            + f"\n\nThe commit that fixed it said: {commit.subject}"
            + ("\n\nThe code before the fix:" if shown else "")
        )
        paths = sorted(s.path for s in code) + sorted(s.path for s in tests)
        lines = sum((s.added or 0) + (s.deleted or 0) for s in stats)
        score = min(1.0, quality(commit, kind, stats, shown) + 0.1)
        meta = self._meta(commit, "test_fix", paths, round(score, 2), lines)
        return curated(instruction, code_diff, meta, _files_block(context) if shown else "")

    def _edit_candidates(self, commit, kind, stats, message, before) -> list[dict] | None:
        code = [
            s
            for s in stats
            if role(s.path) in ("code", "config") and s.old_path is None and s.path in before
        ]
        if not code or len(code) > self.options.max_edit_files:
            return []
        made = []
        for stat in code:
            old = before.get(stat.path)
            if old is None or len(old) > self.options.max_edit_chars:
                continue
            new = self.blobs.text(commit.sha, stat.path)
            if new is None or new == old:
                continue
            if holds_secret(new, stat.path):
                return None
            instruction = f"{message}\n\nMake this change in `{stat.path}` and answer with the whole updated file."
            lines = (stat.added or 0) + (stat.deleted or 0)
            score = quality(commit, kind, [stat], True)
            meta = self._meta(commit, "edit", [stat.path], score, lines)
            made.append(
                curated(instruction, _fence(stat.path, new), meta, _files_block({stat.path: old}))
            )
        return made


def mine(
    repo: str | Path,
    options: MineOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> MineResult:
    """Candidates from the history of HEAD in `repo`, newest commit first."""
    options = options or MineOptions()
    root = repo_root(repo)
    commits = list_commits(root, options.since, options.max_commits)
    result = MineResult(commits_read=len(commits))
    with Blobs(root) as blobs:
        miner = _Miner(root, options, blobs)
        for done, commit in enumerate(commits, 1):
            made, skipped = miner.candidates(commit)
            if skipped:
                result.skipped[skipped] += 1
            result.candidates.extend(made)
            if progress is not None:
                progress(done, len(commits))
    return result
