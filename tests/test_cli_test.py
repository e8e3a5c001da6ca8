"""`code-assistant test`: plan, run, timeouts, passthrough, report and exit codes, on real repos."""

from __future__ import annotations

import json
import shutil
import sys

import pytest
from cli_run import run

FILES = {
    "pytest.ini": "[pytest]\n",
    "calc.py": "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n",
    "tests/test_add.py": "from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n",
    "tests/test_mul.py": "from calc import mul\n\n\ndef test_mul():\n    assert mul(2, 3) == 6\n",
}


@pytest.fixture
def calc(git_repo, monkeypatch):
    repo = git_repo("calc")
    repo.commit("base", **FILES, **{".gitignore": "artifacts/\n.code-assistant/\n"})
    monkeypatch.setenv("PYTHONPATH", str(repo.path))
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    return repo


def report(repo) -> dict:
    return json.loads((repo.path / "artifacts/code-assistant/test-report.json").read_text())


def break_add(repo) -> None:
    repo.write("calc.py", FILES["calc.py"].replace("a + b", "a - b"))


def test_dry_run_prints_the_plan_and_runs_nothing(calc):
    break_add(calc)
    code, out, _ = run("test", "--repo", str(calc.path), "--dry-run")
    assert code == 0
    assert "tests/test_add.py::test_add: imports calc.py via" in out
    assert f"$ {sys.executable} -m pytest --junitxml=" in out and out.rstrip().endswith(
        "-- tests/test_add.py::test_add"
    )
    document = report(calc)
    assert document["schema"] == "code-assistant/test-report@1"
    assert document["dry_run"] is True
    assert document["runs"][0]["status"] == "planned"
    assert document["frameworks"] == [{"name": "pytest", "package_manager": "pip", "root": ""}]
    assert [s["nodeid"] for s in document["selected"]] == ["tests/test_add.py::test_add"]
    assert not (calc.path / "artifacts/code-assistant/test-pytest.log").exists()


def test_failing_selection_exits_1_with_counts_log_and_failures(calc):
    break_add(calc)
    code, out, err = run("test", "--repo", str(calc.path))
    assert code == 1
    document = report(calc)
    (run_entry,) = document["runs"]
    assert run_entry["status"] == "failed"
    assert run_entry["counts"] == {"passed": 0, "failed": 1, "errors": 0, "skipped": 0}
    assert run_entry["failures"] == ["tests.test_add::test_add"]
    assert document["logs"] == ["artifacts/code-assistant/test-pytest.log"]
    log = (calc.path / "artifacts/code-assistant/test-pytest.log").read_text()
    assert "1 failed" in log
    assert "test-report.json" in err


def test_passing_selection_exits_0(calc):
    calc.write("calc.py", FILES["calc.py"].replace("a * b", "b * a"))
    code, _, _ = run("test", "--repo", str(calc.path))
    assert code == 0
    assert report(calc)["counts"]["passed"] == 1


def test_target_all_runs_everything(calc):
    code, _, _ = run("test", "--repo", str(calc.path), "--target", "all")
    assert code == 0
    document = report(calc)
    assert document["target"] == "all"
    assert document["counts"]["passed"] == 2


def test_nothing_changed_runs_nothing(calc):
    code, out, _ = run("test", "--repo", str(calc.path))
    assert code == 0
    assert report(calc)["runs"][0]["status"] == "nothing to run"
    assert "nothing selected" in out


def test_passthrough_arguments_reach_the_runner(calc):
    calc.write("calc.py", FILES["calc.py"].replace("a * b", "b * a").replace("a + b", "b + a"))
    code, _, _ = run("test", "--repo", str(calc.path), "--", "-k", "mul")
    assert code == 0
    document = report(calc)
    command = document["runs"][0]["command"]
    assert command[command.index("-k") + 1] == "mul"
    assert document["counts"] == {"passed": 1, "failed": 0, "errors": 0, "skipped": 0}


def test_a_hanging_run_is_killed_at_the_timeout(calc):
    calc.write("tests/test_add.py", "import time\n\n\ndef test_add():\n    time.sleep(60)\n")
    code, out, _ = run("test", "--repo", str(calc.path), "--timeout", "2")
    assert code == 1
    (run_entry,) = report(calc)["runs"]
    assert run_entry["status"] == "timeout" and run_entry["timed_out"] is True
    assert run_entry["duration_s"] < 20
    assert "[timeout]" in out


def test_range_and_staged_sources(calc):
    calc.branch("feature")
    break_add(calc)
    calc.commit("break")
    code, _, _ = run(
        "test", "--repo", str(calc.path), "--base", "main", "--head", "feature", "--dry-run"
    )
    assert code == 0
    assert [s["nodeid"] for s in report(calc)["selected"]] == ["tests/test_add.py::test_add"]
    calc.write("calc.py", (calc.path / "calc.py").read_text().replace("a * b", "a ** b"))
    calc.stage()
    code, _, _ = run("test", "--repo", str(calc.path), "--staged", "--dry-run")
    assert code == 0
    assert [s["nodeid"] for s in report(calc)["selected"]] == ["tests/test_mul.py::test_mul"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--base", "nope"], "unknown base ref 'nope'"),
        (["--head", "HEAD"], "--head needs --base"),
        (["--staged", "--base", "main"], "choose one change source"),
        (["--timeout", "0"], "--timeout 0: expected a positive number of seconds"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(calc, args, message):
    code, _, err = run("test", "--repo", str(calc.path), *args)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1
    assert not (calc.path / "artifacts").exists()


def test_not_a_repository_exits_2(tmp_path):
    code, _, err = run("test", "--repo", str(tmp_path))
    assert code == 2
    assert "not a git repository" in err


def test_no_framework_exits_2(git_repo):
    repo = git_repo("empty")
    repo.commit("base", **{"notes.txt": "hello\n"})
    code, _, err = run("test", "--repo", str(repo.path))
    assert code == 2
    assert "no test framework detected" in err


def test_missing_runner_is_an_environment_error(git_repo):
    repo = git_repo("gomod")
    repo.commit("base", **{"go.mod": "module example.com/x\n", "x.go": "package x\n"})
    repo.write("x.go", "package x\n\nvar A = 1\n")
    code, out, err = run("test", "--repo", str(repo.path), "--dry-run")
    assert code == 0
    assert "$ go test -json .\n" in out
    if shutil.which("go") is None:
        code, _, err = run("test", "--repo", str(repo.path))
        assert code == 3
        assert "go: not found on PATH" in err


def test_jest_plan_uses_find_related_tests(git_repo):
    repo = git_repo("js")
    repo.commit(
        "base",
        **{
            "package.json": json.dumps({"devDependencies": {"jest": "29"}}),
            "src/math.js": "export const add = (a, b) => a + b;\n",
            "src/math.test.js": "import { add } from './math';\ntest('add', () => expect(add(1, 2)).toBe(3));\n",
        },
    )
    repo.write("src/math.js", "export const add = (a, b) => a - b;\n")
    code, out, _ = run("test", "--repo", str(repo.path), "--dry-run")
    assert code == 0
    document = report(repo)
    assert document["frameworks"] == [{"name": "jest", "package_manager": "npm", "root": ""}]
    assert document["runs"][0]["command"][-2:] == ["--findRelatedTests", "src/math.js"]
    assert document["selected"][0]["nodeid"] == "src/math.test.js"
    assert "imports src/math.js via src/math.test.js -> src/math.js" in out


def test_secrets_printed_by_tests_never_reach_the_artifacts(calc):
    token = "ghp_" + "x1Y2" * 9  # a GitHub token's format, built here so no scanner flags this file
    calc.write(
        "tests/test_add.py",
        f"def test_add():\n    print({token!r})\n    assert False, {token!r}\n",
    )
    code, _, _ = run("test", "--repo", str(calc.path), "--", "-rA")
    assert code == 1
    log = (calc.path / "artifacts/code-assistant/test-pytest.log").read_text()
    results = (calc.path / "artifacts/code-assistant/results-pytest.xml").read_text()
    assert token not in log and token not in results
    assert "<redacted by code-assistant>" in log
    assert report(calc)["runs"][0]["secrets_redacted"] >= 2


def test_nothing_selected_still_checks_the_changed_module_imports(calc):
    calc.commit(
        "lazy",
        **{
            "extra.py": "def unused():\n    return 1\n",
            "tests/test_lazy.py": "def test_lazy():\n    from extra import unused\n\n    assert unused() == 1\n",
        },
    )
    calc.write("extra.py", "import no_such_module_xyz\n\n\ndef unused():\n    return 1\n")
    code, out, _ = run("test", "--repo", str(calc.path))
    assert code == 1
    (entry,) = report(calc)["runs"]
    assert entry["command"][1] == "-c"
    assert json.loads(entry["command"][-1])["modules"] == ["extra"]
    log = (calc.path / "artifacts/code-assistant/test-pytest.log").read_text()
    assert "No module named 'no_such_module_xyz'" in log


def test_record_writes_the_coverage_map_that_later_runs_use(calc):
    code, _, _ = run("test", "--repo", str(calc.path), "--record")
    assert code == 0
    head = calc.git("rev-parse", "HEAD")
    assert (calc.path / ".code-assistant/coverage" / f"{head}.json").is_file()
    assert "--record-coverage" in report(calc)["runs"][0]["command"]
    calc.write("calc.py", FILES["calc.py"].replace("a * b", "b * a"))
    code, _, _ = run("test", "--repo", str(calc.path), "--dry-run")
    assert code == 0
    (selected,) = report(calc)["selected"]
    assert selected["reason"] == "covered lines 6 of calc.py"
