"""Exact commands for each framework, from a change (argument lists, never shell text)."""

from __future__ import annotations

from pathlib import Path

from code_assistant_lora.select.change import Change, ChangedFile
from code_assistant_lora.select.engine import SelectedTest, Selection
from code_assistant_lora.select.frameworks import Framework
from code_assistant_lora.select.plan import plan_javascript, plan_native, plan_pytest, plan_unittest


def change(files: dict[str, str], changed: list[str], root: Path = Path(".")) -> Change:
    data = {p: t.encode() for p, t in files.items()}
    return Change(
        root=root,
        kind="worktree",
        base=None,
        base_commit="0" * 40,
        head="WORKTREE",
        files=[ChangedFile(p, "modified", old=b"", new=data.get(p)) for p in changed],
        paths=list(data),
        read=data.get,
    )


def test_go_runs_the_packages_of_changed_files():
    files = {"go.mod": "module x\n", "a/a.go": "", "b/c/c.go": "", "README.md": ""}
    plan = plan_native(Framework("go", "go"), change(files, ["a/a.go", "b/c/c.go"]), (), False)
    assert plan.command == ("go", "test", "-json", "./a", "./b/c")
    assert [t.path for t in plan.selected] == ["a/", "b/c/"]
    whole = plan_native(Framework("go", "go"), change(files, ["go.mod"]), (), False)
    assert whole.command[-1] == "./..."
    assert whole.selected[0].reason == "dependency manifest changed: go.mod"
    assert plan_native(Framework("go", "go"), change(files, ["README.md"]), (), False).command == ()


def test_cargo_runs_the_crates():
    files = {
        "Cargo.toml": "[workspace]\nmembers = ['core']\n",
        "core/Cargo.toml": '[package]\nname = "engine-core"\n',
        "core/src/lib.rs": "",
    }
    plan = plan_native(
        Framework("cargo", "cargo"), change(files, ["core/src/lib.rs"]), ("--", "-q"), False
    )
    assert plan.command == ("cargo", "test", "-p", "engine-core", "--", "-q")


def test_maven_and_gradle_run_whole_modules():
    maven = {"pom.xml": "", "api/pom.xml": "", "api/src/main/java/A.java": ""}
    plan = plan_native(
        Framework("maven", "maven"), change(maven, ["api/src/main/java/A.java"]), (), False
    )
    assert plan.command == ("mvn", "-B", "-pl", "api", "-amd", "test")
    gradle = {"settings.gradle": "", "gradlew": "", "app/build.gradle": "", "app/src/A.kt": ""}
    plan = plan_native(Framework("gradle", "gradle"), change(gradle, ["app/src/A.kt"]), (), False)
    assert plan.command == ("./gradlew", ":app:test")


def test_vitest_related_and_config_changes():
    files = {
        "package.json": "{}",
        "src/a.ts": "",
        "src/a.test.ts": "import './a'\n",
        "vitest.config.ts": "",
    }
    framework = Framework("vitest", "pnpm")
    plan = plan_javascript(framework, change(files, ["src/a.ts"]), Path("out.xml"), (), False)
    assert plan.command[:5] == ("pnpm", "exec", "vitest", "related", "--run")
    assert plan.command[-1] == "src/a.ts"
    assert [t.nodeid for t in plan.selected] == ["src/a.test.ts"]
    whole = plan_javascript(
        framework, change(files, ["vitest.config.ts"]), Path("out.xml"), (), False
    )
    assert whole.command[:4] == ("pnpm", "exec", "vitest", "run")
    assert whole.selected[0].scope == "suite"


def test_pytest_and_unittest_commands(tmp_path):
    selection = Selection(
        tests=(
            SelectedTest("tests/test_a.py", "TestA.test_b", "test", "changed"),
            SelectedTest("tests/test_c.py", None, "file", "changed"),
        )
    )
    pytest_plan = plan_pytest(
        Framework("pytest", "pip"), selection, tmp_path, tmp_path / "r.xml", ("-x",), False
    )
    assert pytest_plan.command[-4:] == (
        "-x",
        "--",
        "tests/test_a.py::TestA::test_b",
        "tests/test_c.py",
    )
    unittest_plan = plan_unittest(Framework("unittest", "pip"), selection, tmp_path, (), False)
    assert unittest_plan.command[-2:] == ("tests.test_a.TestA.test_b", "tests.test_c")
