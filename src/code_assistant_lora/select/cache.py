"""The summary cache: parsed module summaries keyed by git blob id, under `.code-assistant/`.

JSON only (a cache in a repository must never be able to run code when it is read). A cache that
is missing, unreadable or from another version is simply rebuilt."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..report import write_atomic
from .source import SUMMARY_VERSION, ModuleSummary

CACHE_SCHEMA = "code-assistant/select-cache@1"
CACHE_PATH = Path(".code-assistant") / "select-cache.json"


class SummaryCache:
    def __init__(self, root: Path | None) -> None:
        self.path = root / CACHE_PATH if root is not None else None
        self.entries: dict[str, dict] = {}
        self.used: set[str] = set()
        self.dirty = False
        if self.path is not None and self.path.is_file():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                if data.get("schema") == CACHE_SCHEMA and data.get("key") == _key():
                    entries = data.get("entries")
                    self.entries = entries if isinstance(entries, dict) else {}
            except (OSError, ValueError, AttributeError):
                self.entries = {}

    def get(self, blob: str) -> ModuleSummary | None:
        found = self.entries.get(blob)
        if found is None:
            return None
        try:
            summary = ModuleSummary.from_dict(found)
        except (ValueError, KeyError, TypeError):
            return None
        self.used.add(blob)
        return summary

    def put(self, blob: str, summary: ModuleSummary) -> None:
        self.entries[blob] = summary.to_dict()
        self.used.add(blob)
        self.dirty = True

    def save(self, keep: set[str]) -> None:
        """Write the cache back, keeping entries for blobs still in the tree."""
        if self.path is None or not self.dirty:
            return
        entries = {k: v for k, v in self.entries.items() if k in keep or k in self.used}
        document = {"schema": CACHE_SCHEMA, "key": _key(), "entries": entries}
        try:
            ensure_ignored(self.path.parent)
            write_atomic(self.path, json.dumps(document, separators=(",", ":")))
        except OSError:
            pass  # a read-only checkout still selects, just without a cache


def ensure_ignored(folder: Path) -> None:
    """Our state folder ignores itself (as .pytest_cache does), so it never shows up as a change."""
    marker = folder / ".gitignore"
    if not marker.exists():
        folder.mkdir(parents=True, exist_ok=True)
        marker.write_text("# created by code-assistant\n*\n", encoding="utf-8")


def _key() -> str:
    return f"{SUMMARY_VERSION}:{sys.version_info[0]}.{sys.version_info[1]}"
