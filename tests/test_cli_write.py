"""`code-assistant write` end to end on real repos: both artifacts, their shape, determinism, and
every kind of bad input (exit 2, one line, nothing written)."""

from __future__ import annotations

import io
import json
import sys

import pytest

from code_assistant_lora.cli import main
from code_assistant_lora.plan import WRITE_CONTEXT_SCHEMA

REPO = {
    "vendor/lib.py": "def vendored():\n    pass\n",
    "pyproject.toml": "[project]\nname = 'shop'\n\n[tool.pytest.ini_options]\naddopts = '-q'\n",
    "src/shop/__init__.py": "",
    "src/shop/orders.py": (
        "def place_order(cart, coupon=None):\n    '''Place an order.'''\n    return apply_coupon(cart, coupon)\n\n\n"
        "def apply_coupon(cart, coupon):\n    '''Discount the cart by the coupon.'''\n    return cart\n"
    ),
    "src/shop/shipping.py": "from shop.orders import place_order\n\n\ndef quote(weight):\n    return weight * 2\n",
    "tests/test_orders.py": "from shop.orders import apply_coupon\n\n\ndef test_coupon():\n    assert apply_coupon([1], None) == [1]\n",
    "README.md": "# Shop\n\nOrders, coupons and shipping.\n",
}
TASK = "Make `apply_coupon` reject expired coupons"


def run(
    argv: list[str], capsys, stdin: str | None = None, monkeypatch=None
) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


@pytest.fixture
def shop(git_repo):
    repo = git_repo()
    repo.commit("shop", **REPO)
    return repo


def test_write_produces_context_and_plan(shop, capsys, tmp_path):
    constraints = tmp_path / "constraints.txt"
    constraints.write_text(
        "# house rules\n- Keep the public API stable\n  across minor versions\navoid: src/shop/shipping.py\n"
        "include: README.md\nrun: make lint\n"
    )
    code, out, err = run(
        ["write", "--repo", str(shop.path), "--task", TASK, "--constraints", str(constraints)],
        capsys,
    )
    assert code == 0, err
    assert out.startswith("files to change: src/shop/orders.py")
    artifacts = shop.path / "artifacts" / "code-assistant"
    doc = json.loads((artifacts / "write-context.json").read_text())
    assert doc["schema"] == WRITE_CONTEXT_SCHEMA == "code-assistant/write-context@1"
    assert doc["task"] == TASK
    top = doc["files"][0]
    assert top["path"] == "src/shop/orders.py" and top["score"] > 0
    assert "defines `apply_coupon`, named in the task" in top["reasons"]
    assert any(
        c["symbol"] == "apply_coupon" and "def apply_coupon" in c["text"] for c in top["chunks"]
    )
    assert set(top["chunks"][0]) >= {"start_line", "end_line", "symbol", "text"}
    assert "src/shop/shipping.py" not in [f["path"] for f in doc["files"]]
    assert doc["tests"][0] == {
        "path": "tests/test_orders.py",
        "reason": "imports src/shop/orders.py",
        "for": "src/shop/orders.py",
    }
    assert doc["conventions"]["tests"]["frameworks"] == ["pytest"]
    assert doc["constraints"]["requirements"] == [
        "Keep the public API stable across minor versions"
    ]
    assert doc["constraints"]["avoid"] == ["src/shop/shipping.py"]
    assert "README.md" in [c["path"] for c in doc["context"]]
    assert {"path": "vendor/lib.py", "reason": "skipped folder vendor/"} in doc["skipped"]
    plan = (artifacts / "patch-plan.md").read_text()
    for heading in (
        "## Files to change",
        "## Steps",
        "## Tests to add or run",
        "## Risks",
        "## Constraints",
        "## Open questions",
    ):
        assert heading in plan
    assert "1. `src/shop/orders.py`" in plan
    assert "run `tests/test_orders.py`" in plan
    assert "Command: `python -m pytest -q tests/test_orders.py`" in plan
    assert "- Keep the public API stable across minor versions" in plan
    assert "do not touch `src/shop/shipping.py`" in plan and "`make lint` must pass" in plan


def test_same_repo_and_task_give_identical_artifacts(shop, capsys, tmp_path):
    outputs = []
    for n in range(2):
        out = tmp_path / f"out{n}"
        code, _, err = run(
            ["write", "--repo", str(shop.path), "--task", TASK, "--out", str(out)], capsys
        )
        assert code == 0, err
        outputs.append(
            ((out / "write-context.json").read_bytes(), (out / "patch-plan.md").read_bytes())
        )
    assert "index reused" in err
    assert outputs[0] == outputs[1]


def test_task_from_a_file_and_from_stdin(shop, capsys, tmp_path, monkeypatch):
    task_file = tmp_path / "task.md"
    task_file.write_text(TASK + "\n\nMore detail.\n")
    code, out, _ = run(["write", "--repo", str(shop.path), "--task-file", str(task_file)], capsys)
    assert code == 0 and "src/shop/orders.py" in out
    code, out, _ = run(
        ["write", "--repo", str(shop.path), "--task-file", "-"],
        capsys,
        stdin=TASK,
        monkeypatch=monkeypatch,
    )
    assert code == 0 and "src/shop/orders.py" in out


def test_a_secret_in_the_task_never_reaches_the_artifacts(shop, capsys):
    secret = "AKIAJ7Q3EXAMPLE4XZ2P"
    code, _, err = run(
        ["write", "--repo", str(shop.path), "--task", f"{TASK}\naws_access_key_id = {secret}"],
        capsys,
    )
    assert code == 0, err
    artifacts = shop.path / "artifacts" / "code-assistant"
    for name in ("write-context.json", "patch-plan.md"):
        text = (artifacts / name).read_text()
        assert secret not in text and "redacted" in text


@pytest.mark.parametrize(
    ("args", "constraints", "message"),
    [
        (["--task", "   "], None, "--task: the task is empty"),
        (["--task", "x" * 20_001], None, "the task is 20001 characters; the limit is 20000"),
        ([], None, "exactly one of --task TEXT or --task-file FILE"),
        (
            ["--task", "a", "--task-file", "t.md"],
            None,
            "exactly one of --task TEXT or --task-file FILE",
        ),
        (["--task-file", "missing.md"], None, "--task-file missing.md: no such file"),
        (
            ["--task", TASK, "--constraints", "nope.txt"],
            None,
            "--constraints nope.txt: no such file",
        ),
        (["--task", TASK], "- fine\nthis line is prose\n", ":2: expected '- requirement'"),
        (["--task", TASK], "- fine\nowner: me\n", ":2: unknown directive 'owner'"),
        (["--task", TASK], "avoid:\n", ":1: avoid: needs a value"),
        (["--task", TASK], b"- caf\xe9\n", ":1: not UTF-8 text"),
        (
            ["--task", TASK],
            "include: docs/none.md\n",
            "include: no such file in the repository: docs/none.md",
        ),
        (["--task", TASK, "--top", "0"], None, "--top 0: expected a number from 1 to 100"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    shop, capsys, tmp_path, monkeypatch, args, constraints, message
):
    monkeypatch.chdir(tmp_path)
    if constraints is not None:
        path = tmp_path / "c.txt"
        path.write_bytes(constraints if isinstance(constraints, bytes) else constraints.encode())
        args = [*args, "--constraints", str(path)]
    code, out, err = run(["write", "--repo", str(shop.path), *args], capsys)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (shop.path / "artifacts").exists()


@pytest.mark.parametrize("kind", ["not-a-repo", "no-text-files"])
def test_bad_repositories_exit_2(git_repo, tmp_path, capsys, kind):
    if kind == "not-a-repo":
        target = tmp_path / "plain"
        target.mkdir()
        message = "not a git repository"
    else:
        repo = git_repo()
        repo.commit("bin", **{"a.png": b"\x89PNG\x00", "b.so": b"\x7fELF\x00"})
        target = repo.path
        message = "no text files to index"
    code, _, err = run(["write", "--repo", str(target), "--task", TASK], capsys)
    assert code == 2 and message in err
    assert not (target / "artifacts").exists()


def test_write_help_names_its_outputs(capsys):
    main(["write", "--help"])
    out = capsys.readouterr().out
    assert "write-context.json" in out and "patch-plan.md" in out and "--constraints" in out
