"""`code-assistant review` end to end on real repos: exit codes, artifacts, formats, options, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from cli_run import run

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-2.1.0-rtm.5.json").read_text())
KEY_BODY = "MIIEowIBAAKCAQEA" + "q7BFUrkRmmPbKx0a9Yt3" * 3
PRIVATE_KEY = (
    "-----BEGIN " + "RSA PRIVATE KEY-----\n" + KEY_BODY + "\n-----END " + "RSA PRIVATE KEY-----\n"
)


@pytest.fixture
def leaky(git_repo):
    """A repo whose feature branch commits a private key next to a clean change."""
    repo = git_repo()
    repo.commit("base", **{"app/__init__.py": "", "README.md": "# app\n"})
    repo.branch("feature")
    repo.commit(
        "add deploy key",
        **{"deploy/key.txt": "deploy key below\n" + PRIVATE_KEY, "README.md": "# app\n\nDocs.\n"},
    )
    return repo


def artifact(repo) -> dict:
    return json.loads((repo.path / "artifacts/code-assistant/review.json").read_text())


def test_findings_at_threshold_exit_1_and_write_review_json(leaky):
    code, out, err = run(
        "review",
        "--repo",
        str(leaky.path),
        "--base",
        "main",
        "--head",
        "feature",
        "--format",
        "json",
    )
    assert code == 1
    printed = json.loads(out)
    assert printed == artifact(leaky)
    hits = [f for f in printed["findings"] if f["rule"] == "secrets.private-key"]
    assert hits and hits[0]["file"] == "deploy/key.txt" and hits[0]["line"] == 2
    assert KEY_BODY not in out  # the secret itself never travels into reports


def test_fail_on_above_the_findings_exits_0(leaky, tmp_path):
    code, _, _ = run(
        "review",
        "--repo",
        str(leaky.path),
        "--base",
        "main",
        "--format",
        "json",
        "--skip-rules",
        "secrets",
    )
    assert code == 0
    assert artifact(leaky)["summary"]["findings"] == 0


def test_clean_change_exits_0(git_repo):
    repo = git_repo()
    repo.commit("base", **{"notes.md": "# notes\n"})
    repo.write("notes.md", "# notes\n\nMore words.\n")
    code, out, _ = run("review", "--repo", str(repo.path))
    assert code == 0
    assert "0 finding(s) in 1 file(s)" in out
    assert artifact(repo)["findings"] == []


def test_staged_review_ignores_unstaged_content(git_repo):
    repo = git_repo()
    repo.commit("base", **{"a.md": "# a\n"})
    repo.write("a.md", "# a\nstaged\n")
    repo.stage()
    repo.write("key.txt", PRIVATE_KEY)  # untracked, not staged
    code, _, _ = run("review", "--repo", str(repo.path), "--staged")
    assert code == 0
    code, _, _ = run("review", "--repo", str(repo.path))  # the working tree sees it
    assert code == 1


def test_sarif_and_github_formats(leaky):
    code, out, _ = run("review", "--repo", str(leaky.path), "--base", "main", "--format", "sarif")
    assert code == 1
    sarif = json.loads(out)
    jsonschema.validate(sarif, SCHEMA)
    assert any(r["ruleId"] == "secrets.private-key" for r in sarif["runs"][0]["results"])
    _, out, _ = run("review", "--repo", str(leaky.path), "--base", "main", "--format", "github")
    assert "::error file=deploy/key.txt,line=2," in out


def test_baseline_silences_known_findings(leaky, tmp_path):
    run("review", "--repo", str(leaky.path), "--base", "main", "--format", "json")
    baseline = tmp_path / "baseline.json"
    baseline.write_text((leaky.path / "artifacts/code-assistant/review.json").read_text())
    code, _, _ = run(
        "review",
        "--repo",
        str(leaky.path),
        "--base",
        "main",
        "--baseline",
        str(baseline),
        "--format",
        "json",
    )
    assert code == 0
    assert artifact(leaky)["summary"]["baseline_suppressed"] >= 1


def test_inline_suppression(git_repo):
    repo = git_repo()
    repo.commit("base", **{"a.md": "# a\n"})
    repo.write("fixture_key.txt", "# code-assistant: ignore[secrets.private-key]\n" + PRIVATE_KEY)
    code, _, _ = run("review", "--repo", str(repo.path), "--format", "json")
    assert [f["rule"] for f in artifact(repo)["findings"]] == []
    assert code == 0


def test_out_directory(leaky, tmp_path):
    out_dir = tmp_path / "reports"
    run(
        "review",
        "--repo",
        str(leaky.path),
        "--base",
        "main",
        "--out",
        str(out_dir),
        "--format",
        "json",
    )
    assert json.loads((out_dir / "review.json").read_text())["schema"] == "code-assistant/review@1"


def test_config_threshold_applies(leaky):
    leaky.write(".code-assistant.toml", '[review]\nskip_rules = ["secrets.private-key"]\n')
    code, _, _ = run("review", "--repo", str(leaky.path), "--base", "main", "--format", "json")
    assert all(f["rule"] != "secrets.private-key" for f in artifact(leaky)["findings"])
    assert code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--base", "no-such-branch"], "unknown base ref 'no-such-branch'"),
        (["--rules", "python.no-such-rule"], "--rules: unknown rule 'python.no-such-rule'"),
        (["--staged", "--base", "main"], "choose one change source"),
        (["--baseline", "missing.json"], "--baseline missing.json: no such file"),
        (["--diff-file", "missing.diff"], "--diff-file missing.diff: no such file"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(leaky, args, message):
    code, out, err = run("review", "--repo", str(leaky.path), *args)
    assert code == 2
    assert err.strip().count("\n") == 0 and message in err
    assert not (leaky.path / "artifacts").exists()


def test_not_a_repo_and_empty_change(tmp_path, git_repo):
    code, _, err = run("review", "--repo", str(tmp_path))
    assert code == 2 and "not a git repository" in err
    repo = git_repo()
    repo.commit("base", **{"a.md": "# a\n"})
    code, _, err = run("review", "--repo", str(repo.path))
    assert code == 2 and "nothing to review" in err
    assert not (repo.path / "artifacts").exists()


def test_bad_config_is_exit_2(leaky):
    leaky.write(".code-assistant.toml", "[review]\nfail_onn = 'high'\n")
    code, _, err = run("review", "--repo", str(leaky.path), "--base", "main")
    assert code == 2 and "unknown key 'fail_onn'" in err


def test_huge_files_are_skipped_with_a_note(git_repo):
    repo = git_repo()
    repo.commit("base", **{"a.md": "# a\n"})
    repo.write("data/huge.txt", ("x" * 99 + "\n") * 25_000)
    code, _, _ = run("review", "--repo", str(repo.path), "--format", "json")
    notes = artifact(repo)["notes"]
    assert code == 0 and any("huge.txt" in n and "review limit" in n for n in notes)


def test_console_script_starts_without_heavy_imports(leaky):
    probe = (
        "import sys\n"
        "from code_assistant_lora.cli import main\n"
        "try:\n"
        f"    main(['review', '--repo', {str(leaky.path)!r}, '--base', 'main', '--format', 'json'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('torch', 'transformers', 'gradio', 'peft', 'numpy') if m in sys.modules]\n"
        "sys.stderr.write('HEAVY=' + ','.join(heavy))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert "HEAVY=\n" in completed.stderr + "\n", completed.stderr[-500:]


def test_config_exclude_skips_paths_with_a_note(leaky):
    leaky.write(".code-assistant.toml", '[review]\nexclude = ["deploy/", "docs/*.md"]\n')
    code, _, _ = run("review", "--repo", str(leaky.path), "--base", "main", "--format", "json")
    document = artifact(leaky)
    assert code == 0
    assert [f["file"] for f in document["findings"]] == []
    assert "1 file(s) skipped by [review] exclude" in document["notes"]
    leaky.write(".code-assistant.toml", '[review]\nexclude = ["deploy/*", "README.md"]\n')
    code, _, _ = run("review", "--repo", str(leaky.path), "--base", "main", "--format", "json")
    assert code == 0 and artifact(leaky)["summary"]["files"] == 0
    leaky.write(".code-assistant.toml", '[review]\nexclude = "deploy/"\n')
    code, _, err = run("review", "--repo", str(leaky.path), "--base", "main")
    assert code == 2 and "review.exclude" in err


def test_packs_load_only_for_the_paths_in_the_change(git_repo):
    repo = git_repo()
    repo.commit("base", **{"app/__init__.py": ""})
    repo.write("app/core.py", "def total(xs):\n    return sum(xs)\n")
    probe = (
        "import sys\n"
        "from code_assistant_lora.cli import main\n"
        "try:\n"
        f"    main(['review', '--repo', {str(repo.path)!r}, '--format', 'json'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = sorted(m.rsplit('.', 1)[-1] for m in sys.modules if m.startswith('code_assistant_lora.review.rules.'))\n"
        "sys.stderr.write('PACKS=' + ','.join(loaded))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert "PACKS=python,secrets,tests" in completed.stderr, completed.stderr[-500:]
