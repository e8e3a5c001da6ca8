"""Secrets never land in artifacts: test logs and result files are scrubbed of credentials that
detect-secrets recognises by format (cloud keys, tokens, private keys, passwords in URLs) before
they are kept. High-entropy heuristics are left out on purpose: test output is full of hashes."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

MARK = "<redacted by code-assistant>"


@lru_cache(maxsize=1)
def _plugins() -> tuple:
    from detect_secrets.plugins.basic_auth import BasicAuthDetector
    from detect_secrets.plugins.private_key import PrivateKeyDetector

    from ..secret_plugins import token_plugins

    return (*token_plugins(), BasicAuthDetector(), PrivateKeyDetector())


def redact(text: str) -> tuple[str, int]:
    """The text with every recognised secret replaced (a private key from its header to its
    footer), and how many were."""
    count = 0
    lines = []
    in_key = False
    for line in text.splitlines(keepends=True):
        if in_key:
            in_key = "-----END" not in line
            lines.append(MARK + "\n")
            continue
        for plugin in _plugins():
            for pattern in plugin.denylist:
                line, found = pattern.subn(MARK, line)
                count += found
                if (
                    found
                    and type(plugin).__name__ == "PrivateKeyDetector"
                    and "-----END" not in line
                ):
                    in_key = True
        lines.append(line)
    return "".join(lines), count


def redact_file(path: Path) -> int:
    """Scrub a kept file in place (atomically); the number of secrets removed."""
    from ..report import write_atomic

    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return 0
    clean, count = redact(text)
    if count:
        write_atomic(path, clean)
    return count
