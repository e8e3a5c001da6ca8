"""Reading a JSON file someone gave us: one UserError naming the file when it is missing or is not
UTF-8 JSON, so every command words those failures the same way."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import UserError


def read_json(path: str | Path, label: str | None = None) -> Any:
    """The decoded file at PATH. Errors start with LABEL (default: the path)."""
    name = label or str(path)
    source = Path(path)
    if not source.is_file():
        raise UserError(f"{name}: no such file")
    try:
        return json.loads(source.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{name}: not valid JSON ({exc})") from None
