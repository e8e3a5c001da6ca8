"""Secrets never reach the page: every text the dashboard shows from a dataset passes through here.

The strict secret scan (`training/secret_scan.py`) names the lines that hold a secret, not the
span, so a flagged line is replaced whole. Private-key armour is masked as a block: the scan flags
the BEGIN line, but the base64 body lines that follow are key material too.
"""

from __future__ import annotations

import re
from typing import Any

from ..secret_scan import find_secrets

_PRIVATE_KEY_BLOCK = re.compile(
    r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY[A-Z0-9 ]*-----.*?(?:-----END[A-Z0-9 ]*PRIVATE KEY[A-Z0-9 ]*-----|\Z)",
    re.DOTALL,
)
PRIVATE_KEY_MASK = "[secret masked: private key]"


def mask_label(kind: str) -> str:
    return f"[secret masked: {kind}]"


def mask_text(text: str) -> str:
    """`text` with every line the secret scan flags replaced by a label naming the kind."""
    text = _PRIVATE_KEY_BLOCK.sub(PRIVATE_KEY_MASK, text)
    hits = find_secrets(text)
    if not hits:
        return text
    lines = text.split("\n")
    for hit in hits:
        line = lines[hit.line - 1]
        lines[hit.line - 1] = line[: len(line) - len(line.lstrip())] + mask_label(hit.kind)
    return "\n".join(lines)


def mask_value(value: Any) -> Any:
    """A copy of a JSON value with every string (and key) masked."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {mask_text(k) if isinstance(k, str) else k: mask_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_value(item) for item in value]
    return value
