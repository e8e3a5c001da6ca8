"""The dataset commands as a user meets them: help text, scan and mine output, light start-up."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

COMMANDS = ("scan", "mine", "build-sft", "build-reviewer-sft", "audit", "build")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_and_option_has_help(train_cli, command):
    import click
    from code_assistant_lora.training.cli import cli

    run = train_cli(command, "--help")
    assert run.code == 0
    assert run.out.startswith(f"Usage: code-assistant-train {command}")
    definition = cli.commands[command]
    assert definition.help and " ".join(definition.help.split()[:6]) in " ".join(run.out.split())
    for param in definition.params:
        if isinstance(param, click.Option):
            assert param.help, f"{command} {param.opts[0]} has no help"
            assert param.opts[0] in run.out


def test_the_group_lists_the_dataset_commands(train_cli):
    run = train_cli("--help")
    for command in COMMANDS:
        assert f"  {command} " in run.out


def test_scan_writes_chunks_with_provenance(train_cli, history_repo, tmp_path):
    out = tmp_path / "raw" / "chunks.jsonl"
    run = train_cli("scan", history_repo, "--out", out)
    assert run.code == 0, run.err
    chunks = [json.loads(line) for line in out.read_text().splitlines()]
    assert {"path", "language", "symbol", "kind", "start_line", "end_line", "text"} <= set(
        chunks[0]
    )
    symbols = {(c["path"], c["symbol"]) for c in chunks}
    assert ("ledger/accounts.py", "transfer") in symbols
    assert not any(c["path"].startswith("vendor/") or c["path"] == "poetry.lock" for c in chunks)
    assert run.err.startswith("scanned ") and "skipped folder vendor/" in run.err


def test_mine_writes_candidates_and_a_summary(train_cli, history_repo, tmp_path):
    out = tmp_path / "candidates.jsonl"
    run = train_cli("mine", history_repo, "--out", out, "--max", "5")
    assert run.code == 0, run.err
    assert run.err.startswith("mined ") and "from 5 commits" in run.err
    assert all(json.loads(line)["meta"]["source"] == "git" for line in out.read_text().splitlines())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday-ish"], "--since 'yesterday-ish'"),
        (["--max", "0"], "Invalid value for '--max'"),
    ],
)
def test_mine_rejects_bad_limits(train_cli, history_repo, tmp_path, args, message):
    out = tmp_path / "c.jsonl"
    run = train_cli("mine", history_repo, "--out", out, *args)
    assert run.code == 2 and message in run.err and not out.exists()


def test_mine_and_scan_need_a_git_repository(train_cli, tmp_path):
    for command in ("mine", "scan"):
        run = train_cli(command, tmp_path, "--out", tmp_path / "x.jsonl")
        assert run.code == 2 and "not a git repository" in run.err


def test_help_imports_nothing_heavy():
    script = (
        "import sys\n"
        "from code_assistant_lora.training.cli import main\n"
        "try:\n    main(['build-sft', '--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('numpy', 'rapidfuzz', 'detect_secrets', 'tree_sitter', 'torch', 'yaml', 'rich')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"
