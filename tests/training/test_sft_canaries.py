"""Canary secrets planted in a repository's files and history (AWS keys, a private key, a .env
file, a password in test code, a token in a commit message): no dataset command writes any of
them to any output, stdout and stderr included."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from sft_canaries import (
    AWS_KEY_ID,
    DOTENV,
    GITHUB_TOKEN,
    MARKS,
    PASSWORD,
    PRIVATE_KEY,
    leaks,
)

SUITES = Path(__file__).resolve().parents[2] / "evals" / "reviewer_regression"

SETTINGS = '''"""Deployment settings."""

REGION = "eu-west-1"
AWS_ACCESS_KEY_ID = "{key}"
BUCKET = "ledger-exports"
'''
LOGIN = '''"""Signing in to the bank's API."""


def login(client, user: str, password: str) -> str:
    """Returns the session id."""
    return client.post("/login", {"user": user, "password": password})["session"]
'''
LOGIN_TEST = f'''from ledger.login import login


class FakeClient:
    def post(self, path, body):
        return {{"session": "s-1"}}


def test_login_returns_the_session():
    assert login(FakeClient(), "ada", password="{PASSWORD}") == "s-1"
'''


def _plant(builder, repo: Path) -> None:
    commit = builder.commit
    commit(
        repo,
        "Add deployment settings for the export bucket",
        {".env": DOTENV, "deploy/settings.py": SETTINGS.format(key=AWS_KEY_ID)},
    )
    commit(
        repo,
        "Read the AWS key from the environment instead of the settings file",
        {"deploy/settings.py": SETTINGS.replace('"{key}"', 'os.environ["AWS_ACCESS_KEY_ID"]')},
    )
    commit(repo, "Add the deploy key for the export host", {"deploy/id_rsa": PRIVATE_KEY})
    commit(repo, "Add login against the bank API", {"ledger/login.py": LOGIN})
    commit(repo, "Test the login flow end to end", {"tests/test_login.py": LOGIN_TEST})
    commit(
        repo,
        f"Configure the CI publish step\n\nUses the token {GITHUB_TOKEN} for now.",
        {"ledger/version.py": '__version__ = "0.2.0"\n'},
    )


def _mined_cases(path: Path) -> Path:
    clean = {
        "suite": "python",
        "description": "Reads the export bucket from settings",
        "diff": "diff --git a/app/cfg.py b/app/cfg.py\nnew file mode 100644\n--- /dev/null\n"
        "+++ b/app/cfg.py\n@@ -0,0 +1 @@\n+BUCKET = 'exports'\n",
        "must_not_flag": True,
    }
    leaky = {
        **clean,
        "description": "Hard-codes the key",
        "diff": clean["diff"].replace("+BUCKET = 'exports'", f"+KEY = '{AWS_KEY_ID}'"),
    }
    path.write_text(json.dumps(clean) + "\n" + json.dumps(leaky) + "\n", encoding="utf-8")
    return path


def test_no_command_writes_a_planted_secret(train_cli, history_builder, history_copy, tmp_path):
    repo = history_copy
    _plant(history_builder, repo)
    history = subprocess.run(
        ["git", "log", "-p", "--all"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout
    assert set(leaks(history)) == set(MARKS)  # the canaries really are in the history
    out = tmp_path / "out"
    out.mkdir()
    runs = []

    def run(*args):
        result = train_cli(*args)
        runs.append(result)
        assert result.code in (0, 1), result.err
        return result

    scanned = run("scan", repo, "--out", out / "chunks.jsonl")
    assert "dotenv file" in scanned.err and "holds a secret" in scanned.err
    mined = run("mine", repo, "--out", out / "candidates.jsonl")
    assert "holds a secret" in mined.err
    run("build-sft", out / "candidates.jsonl", "--train", out / "train.jsonl",
        "--eval", out / "eval.jsonl", "--eval-fraction", "0.2")  # fmt: skip
    cases = _mined_cases(tmp_path / "cases.jsonl")
    reviewer = run("build-reviewer-sft", cases, "--out", out / "reviewer.jsonl")
    assert "1 holds a secret" in reviewer.err
    audited = run("audit", out / "train.jsonl", out / "eval.jsonl", "--out", out / "audit.json")
    assert audited.code == 0  # nothing secret got as far as the dataset
    config = {
        "out_dir": str(out / "chain"),
        "sources": [
            {"kind": "git", "repo": str(repo)},
            {"kind": "reviewer_cases", "path": str(cases)},
        ],
        "split": {"eval_fraction": 0.2},
    }
    (tmp_path / "dataset.json").write_text(json.dumps(config), encoding="utf-8")
    assert run("build", "--config", tmp_path / "dataset.json").code == 0

    written = sorted(p for p in out.rglob("*") if p.is_file())
    assert len(written) >= 12
    for path in written:
        assert not leaks(path.read_text(encoding="utf-8")), path
    for result in runs:
        assert not leaks(result.out + result.err)
    chunks = [json.loads(line)["path"] for line in (out / "chunks.jsonl").read_text().splitlines()]
    assert "ledger/login.py" in chunks and ".env" not in chunks and "deploy/id_rsa" not in chunks
    candidates = (out / "candidates.jsonl").read_text()
    assert "Add login against the bank API" in candidates  # the clean commits still teach
