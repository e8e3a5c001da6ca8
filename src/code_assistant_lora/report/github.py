"""GitHub Actions workflow commands: one annotation per finding."""

from __future__ import annotations

_LEVELS = {
    "critical": "error",
    "high": "error",
    "medium": "warning",
    "low": "notice",
    "info": "notice",
}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(document: dict) -> str:
    lines = []
    for finding in document["findings"]:
        level = _LEVELS.get(finding["severity"], "warning")
        props = ",".join(
            f"{key}={_escape_property(str(value))}"
            for key, value in (
                ("file", finding["file"]),
                ("line", finding["line"]),
                ("endLine", finding["end_line"]),
                ("title", finding["rule"]),
            )
        )
        message = f"[{finding['severity']}] {finding['rationale']} Fix: {finding['suggested_fix']}"
        lines.append(f"::{level} {props}::{_escape_data(message)}")
    for note in document.get("notes", []):
        lines.append(f"::notice title=code-assistant::{_escape_data(note)}")
    return "".join(line + "\n" for line in lines)
