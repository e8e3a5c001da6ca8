"""Model answers kept on disk, so re-running a hook on the same diff costs no request.

One JSON file per key under `<repo>/.code-assistant/cache/`; the key is the sha256 of
(base_url, model, sha256 of the request payload), so a change to the prompt, the sampling settings,
the model name or the endpoint is a new key. Files are written atomically; a file that cannot be
read back (truncated by hand, another schema) is a miss, never an error.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

CACHE_DIR = Path(".code-assistant") / "cache"
CACHE_SCHEMA = "code-assistant/model-cache@1"


def cache_key(base_url: str, model: str, payload: dict) -> str:
    body = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    payload_hash = hashlib.sha256(body.encode("utf-8")).hexdigest()
    parts = "\x1f".join((base_url.rstrip("/"), model, payload_hash))
    return hashlib.sha256(parts.encode("utf-8")).hexdigest()


class ResponseCache:
    """Answers by key in one folder (`repo_root/.code-assistant/cache` by default)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    @classmethod
    def for_repo(cls, repo_root: str | Path) -> ResponseCache:
        return cls(Path(repo_root) / CACHE_DIR)

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def get(self, key: str) -> str | None:
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("schema") != CACHE_SCHEMA:
            return None
        content = data.get("content")
        return content if isinstance(content, str) else None

    def put(self, key: str, base_url: str, model: str, content: str) -> None:
        from ..report import write_atomic

        record = {"schema": CACHE_SCHEMA, "base_url": base_url, "model": model, "content": content}
        try:
            write_atomic(self._path(key), json.dumps(record, ensure_ascii=False) + "\n")
        except OSError:
            pass  # a read-only checkout still reviews; it only pays for the request again
