"""JSON Lines in and out: numbered lines on the way in, atomic files on the way out."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UserError


@dataclass(frozen=True)
class Line:
    """One non-blank line: its 1-based number and the decoded value, or why it did not decode."""

    number: int
    value: Any = None
    error: str | None = None


def raw_lines(path: str | Path) -> list[tuple[int, str]]:
    """(1-based number, text) of each non-blank line. A missing, unreadable or non-UTF-8 file is
    a UserError naming it."""
    source = Path(path)
    if not source.is_file():
        raise UserError(f"{path}: no such file")
    try:
        text = source.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text (byte offset {exc.start})") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return [(n, line) for n, line in enumerate(text.split("\n"), 1) if line.strip()]


def decode(number: int, text: str) -> Line:
    try:
        return Line(number, json.loads(text))
    except ValueError as exc:
        return Line(number, error=f"invalid JSON ({exc.msg} at column {exc.colno})")


def read_lines(path: str | Path) -> Iterator[Line]:
    """The JSON values of a JSONL file, one per non-blank line; a line that is not JSON comes
    back with `error` set."""
    for number, text in raw_lines(path):
        yield decode(number, text)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def write_jsonl(path: str | Path, values: Iterable[Any]) -> Path:
    """Write one JSON value per line, atomically."""
    from ..report import write_atomic

    return write_atomic(path, "".join(dumps(v) + "\n" for v in values))


def write_json(path: str | Path, document: Any) -> Path:
    from ..report import write_atomic

    return write_atomic(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes (datasets, adapter metadata, weights), read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
