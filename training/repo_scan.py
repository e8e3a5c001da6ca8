"""`scan`: the scanner's chunks of a repository as JSONL for dataset building.

The scanner (`code_assistant_lora.scan`) already skips dotenv files, vendored and generated code
and files its secrets check flags; here every chunk also passes the training set's strict secret
scan and banned-path rules, so nothing the audit would reject is written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .paths import banned_reason
from .secret_scan import holds_secret


@dataclass
class RepoChunks:
    chunks: list = field(default_factory=list)  # scan.Chunk
    files: int = 0
    skipped: Counter = field(default_factory=Counter)

    def summary(self, target: Path) -> str:
        skipped = ", ".join(f"{n} {why}" for why, n in self.skipped.most_common()) or "none"
        return (
            f"scanned {self.files} files into {len(self.chunks)} chunks -> {target}; "
            f"skipped: {skipped}"
        )


def scan_chunks(repo: str | Path, progress: Callable[[int, int], None] | None = None) -> RepoChunks:
    from ..scan import scan_repo

    scanned = scan_repo(repo, progress=progress)
    result = RepoChunks(files=len(scanned.files))
    for skipped in scanned.skipped:
        result.skipped[skipped.reason.split(" (", 1)[0]] += 1
    dropped_files: set[str] = set()
    for chunk in scanned.chunks:
        if chunk.path in dropped_files:
            continue
        reason = banned_reason(chunk.path)
        if reason:
            dropped_files.add(chunk.path)
            result.skipped[reason] += 1
            continue
        if holds_secret(chunk.text, chunk.path):
            result.skipped["chunk holds a secret (strict scan)"] += 1
            continue
        result.chunks.append(chunk)
    return result
