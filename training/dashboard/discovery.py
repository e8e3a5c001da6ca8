"""Finding the folders that hold a given file (adapters, training runs) without descending into
virtualenvs, VCS data or trainer checkpoints."""

from __future__ import annotations

import os
from pathlib import Path

SKIPPED = frozenset({".git", ".venv", "venv", "node_modules", "__pycache__", ".pytest_cache"})


def folders_with(root: str | Path, filename: str, max_depth: int = 4) -> list[Path]:
    """Folders under `root` (itself included, at most `max_depth` levels down) holding
    `filename`, sorted by path."""
    base = Path(root)
    found: list[Path] = []
    for folder, dirs, files in os.walk(base):
        depth = len(Path(folder).relative_to(base).parts)
        dirs[:] = [] if depth >= max_depth else sorted(
            d for d in dirs if d not in SKIPPED and not d.startswith("checkpoint-")
        )  # fmt: skip
        if filename in files:
            found.append(Path(folder))
    return sorted(found)
