"""SFT records: the two input shapes, their validation, and the chat form every dataset is written in.

An input record is one JSON object, either as in the original toolkit

    {"instruction": "...", "input": "...", "output": "...", "meta": {...}}

(`input` optional) or already in chat form

    {"messages": [{"role": "system"|"user"|"assistant", "content": "..."}, ...], "meta": {...}}

Messages may open with one system message, then alternate user/assistant and end with the
assistant's answer. `meta` is optional; its known keys are typed (below), anything else must be a
JSON scalar or a list of them. Both shapes become `SftRecord`, written as
`{"messages": [...], "meta": {...}}` with `meta.id`, `meta.task` and `meta.language` always set.

Errors name the field and the type found, never the value: a value may hold a secret.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

ROLES = ("system", "user", "assistant")
RECORD_KEYS = frozenset({"instruction", "input", "output", "messages", "meta"})
DEFAULT_TASK = "general"
_SLUG = re.compile(r"[a-z][a-z0-9_.-]{0,63}")
_META_STRINGS = ("id", "task", "language", "source", "commit", "group", "specialist", "title")


class RecordError(Exception):
    """A record that does not fit the schema; `field` says where."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class Message:
    role: str
    content: str

    def to_dict(self) -> dict:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True)
class SftRecord:
    """One training conversation and where it came from. `meta` is not to be mutated."""

    messages: tuple[Message, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"messages": [m.to_dict() for m in self.messages], "meta": self.meta}

    @property
    def id(self) -> str:
        return self.meta["id"]

    @property
    def task(self) -> str:
        return self.meta.get("task", DEFAULT_TASK)

    @property
    def language(self) -> str:
        return self.meta.get("language", "text")

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(self.meta.get("paths", ()))

    @property
    def commit(self) -> str | None:
        return self.meta.get("commit")

    @property
    def quality(self) -> float:
        return float(self.meta.get("quality", 0.5))

    def text(self) -> str:
        """What deduplication compares: every message but the system prompt (shared by design)."""
        return conversation_text(m.to_dict() for m in self.messages)

    def chars(self) -> int:
        return sum(len(m.content) for m in self.messages)


def conversation_text(messages) -> str:
    """The turns of a chat (role/content mappings) without the system prompt, one text."""
    return "\n".join(m["content"] for m in messages if m["role"] != "system")


def approx_tokens(chars: int) -> int:
    """Tokens a BPE tokenizer would make of `chars` characters of code or English: about one per
    four characters (no tokenizer is loaded to build a dataset)."""
    return (chars + 3) // 4


_KEY = re.compile(r"[A-Za-z_][\w.-]{0,40}")


def _key(name: Any) -> str:
    """A field name fit for an error message (odd or long keys are not repeated)."""
    return name if isinstance(name, str) and _KEY.fullmatch(name) else "<unnamed field>"


def _type(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _text(value: Any, where: str, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise RecordError(where, f"expected a string, got {_type(value)}")
    return value


def _messages(value: Any) -> tuple[Message, ...]:
    if not isinstance(value, list) or not value:
        raise RecordError("messages", f"expected a non-empty list, got {_type(value)}")
    out: list[Message] = []
    for index, item in enumerate(value):
        where = f"messages[{index}]"
        if not isinstance(item, dict):
            raise RecordError(where, f"expected an object, got {_type(item)}")
        unknown = sorted(set(item) - {"role", "content"}, key=str)
        if unknown:
            raise RecordError(
                f"{where}.{_key(unknown[0])}", "unknown field (expected role, content)"
            )
        role = item.get("role")
        if role not in ROLES:
            shown = role if isinstance(role, str) and _SLUG.fullmatch(role) else _type(role)
            raise RecordError(f"{where}.role", f"{shown!r} is not one of {', '.join(ROLES)}")
        out.append(Message(role, _text(item.get("content"), f"{where}.content")))
    turns = out[1:] if out[0].role == "system" else out
    for index, message in enumerate(turns):
        expected = "user" if index % 2 == 0 else "assistant"
        if message.role != expected:
            position = index + (len(out) - len(turns))
            raise RecordError(
                f"messages[{position}].role",
                f"expected {expected} (an optional system message first, then user and assistant turns)",
            )
    if not turns or turns[-1].role != "assistant":
        raise RecordError("messages", "must end with the assistant's answer")
    return tuple(out)


def _json_value(value: Any, where: str) -> None:
    if isinstance(value, list):
        for index, item in enumerate(value):
            _json_value(item, f"{where}[{index}]")
    elif not (value is None or isinstance(value, (str, int, float, bool))):
        raise RecordError(where, f"expected a string, number, boolean or list, got {_type(value)}")


def _meta(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RecordError("meta", f"expected an object, got {_type(value)}")
    meta: dict[str, Any] = {}
    for key, item in value.items():
        where = f"meta.{_key(key)}"
        if key in _META_STRINGS:
            if not isinstance(item, str) or not item.strip():
                raise RecordError(where, f"expected a non-empty string, got {_type(item)}")
            if key in ("task", "language", "specialist") and not _SLUG.fullmatch(item):
                raise RecordError(where, "expected a lowercase name like `bugfix` or `python`")
        elif key == "paths":
            if not isinstance(item, list) or not all(isinstance(p, str) and p for p in item):
                raise RecordError(where, "expected a list of repo-relative paths")
        elif key == "quality":
            if isinstance(item, bool) or not isinstance(item, (int, float)) or not 0 <= item <= 1:
                raise RecordError(where, "expected a number from 0 to 1")
        else:
            _json_value(item, where)
        meta[key] = item
    return meta


def record_id(messages: tuple[Message, ...]) -> str:
    """A stable id from the conversation itself (roles and contents, unambiguously joined)."""
    digest = hashlib.sha256()
    for message in messages:
        digest.update(f"{message.role}\x1e{len(message.content)}\x1e".encode())
        digest.update(message.content.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:16]


def make_record(messages: tuple[Message, ...], meta: dict[str, Any]) -> SftRecord:
    """A record with `id`, `task` and `language` filled in (language from the first path)."""
    full = {"id": record_id(messages), "task": DEFAULT_TASK, **meta}
    if "language" not in full:
        from ..scan import language_of

        paths = full.get("paths") or []
        full["language"] = language_of(paths[0]) if paths else "text"
    ordered = {key: full[key] for key in ("id", "task", "language") if key in full}
    ordered.update((k, v) for k, v in full.items() if k not in ordered)
    return SftRecord(messages, ordered)


def parse_record(data: Any) -> SftRecord:
    """Validate one input record (either shape) and turn it into chat form."""
    if not isinstance(data, dict):
        raise RecordError("<record>", f"expected a JSON object, got {_type(data)}")
    unknown = sorted(set(data) - RECORD_KEYS, key=str)
    if unknown:
        raise RecordError(
            _key(unknown[0]),
            "unknown field (expected instruction/input/output or messages, and meta)",
        )
    meta = _meta(data.get("meta"))
    if "messages" in data:
        mixed = sorted({"instruction", "input", "output"} & set(data))
        if mixed:
            raise RecordError(mixed[0], "a record has either messages or instruction/output")
        messages = _messages(data["messages"])
    else:
        if "instruction" not in data or "output" not in data:
            missing = "instruction" if "instruction" not in data else "output"
            raise RecordError(missing, "missing (or give `messages`)")
        instruction = _text(data["instruction"], "instruction")
        extra = _text(data.get("input"), "input", required=False)
        output = _text(data["output"], "output")
        prompt = f"{instruction}\n\n{extra}" if extra.strip() else instruction
        messages = (Message("user", prompt), Message("assistant", output))
    return make_record(messages, meta)


def curated(instruction: str, output: str, meta: dict[str, Any], input_text: str = "") -> dict:
    """An input record in the original toolkit's shape, as mining writes candidates."""
    record: dict[str, Any] = {"instruction": instruction}
    if input_text:
        record["input"] = input_text
    record["output"] = output
    record["meta"] = meta
    return record


def empty_reason(record: SftRecord) -> str | None:
    """Why a record teaches nothing (an empty prompt or answer), or None."""
    for index, message in enumerate(record.messages):
        if message.role != "system" and not message.content.strip():
            return f"messages[{index}] ({message.role}) is empty"
    return None
