"""`code-assistant` run in-process through its real entry point, for the CLI tests."""

from __future__ import annotations

import contextlib
import io

import pytest

from code_assistant_lora.cli import main


def run(*args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        pytest.raises(SystemExit) as info,
    ):
        main(list(args))
    return info.value.code or 0, out.getvalue(), err.getvalue()
