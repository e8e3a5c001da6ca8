"""`pytest --changed-only` and `--record-coverage` in real pytest sub-runs over real git repos."""

from __future__ import annotations

import json

import pytest
from git_repos import GIT_ENV, GitRepo

pytest_plugins = ["pytester"]

FILES = {
    ".gitignore": "stdout\nstderr\nrunpytest-current\n",  # pytester's subprocess files
    "pkg/__init__.py": "from .core import *\n",
    "pkg/core.py": (
        "__all__ = ['add', 'negate', 'maybe']\n\n\n"
        "def add(a, b):\n    return a + b\n\n\n"
        "def negate(a):\n    return -a\n\n\n"
        "def maybe(flag):\n    if flag:\n        return 1\n    return 0\n"
    ),
    "tests/__init__.py": "",
    "tests/test_add.py": (
        "from pkg import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n\n\n"
        "def test_add_zero():\n    assert add(0, 0) == 0\n"
    ),
    "tests/test_negate.py": "from pkg import negate\n\n\ndef test_negate():\n    assert negate(1) == -1\n",
    "tests/test_maybe.py": (
        "from pkg import maybe\n\n\ndef test_runs_it():\n    assert maybe(True) == 1\n\n\n"
        "def test_only_names_it():\n    assert callable(maybe)\n"
    ),
}


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    repo = GitRepo(pytester.path)
    repo.commit("base", **FILES)
    return repo


def record_then_edit(pytester, project, path: str, old: str, new: str):
    """Record a coverage map on the clean tree, edit `path`, and run `--changed-only -v`."""
    pytester.runpytest_subprocess("--record-coverage", "-p", "no:cacheprovider")
    text = (project.path / path).read_text()
    project.write(path, text.replace(old, new))
    return pytester.runpytest("--changed-only", "-v", "-p", "no:cacheprovider")


def flip_negate(repo: GitRepo) -> None:
    text = (repo.path / "pkg/core.py").read_text()
    repo.write("pkg/core.py", text.replace("return -a", "return a"))


def test_only_affected_tests_run(pytester, project):
    flip_negate(project)
    result = pytester.runpytest("--changed-only", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    # the files with nothing selected are not even imported
    result.stdout.fnmatch_lines(
        [
            "1 selected, 0 deselected by --changed-only (2 test files with nothing selected not collected)"
        ]
    )


def test_verbose_prints_reasons(pytester, project):
    flip_negate(project)
    result = pytester.runpytest("--changed-only", "-v", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(
        [
            "*pkg/core.py (modified): graph: changed: negate*",
            "*tests/test_negate.py::test_negate: imports pkg/core.py via *pkg.core.negate",
        ]
    )


def test_k_and_m_still_apply(pytester, project):
    text = (project.path / "pkg/core.py").read_text()
    project.write("pkg/core.py", text.replace("return a + b", "return b + a"))
    result = pytester.runpytest("--changed-only", "-k", "zero", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, deselected=1)
    # only test_add.py is collected; -k keeps one of its two tests, which the change selects
    result.stdout.fnmatch_lines(["1 selected, 0 deselected by --changed-only (2 test files*"])
    both = pytester.runpytest("--changed-only", "-k", "add", "-p", "no:cacheprovider")
    both.assert_outcomes(passed=2)


def test_last_failed_still_applies(pytester, project):
    flip_negate(project)
    pytester.runpytest()  # records test_negate as the last failure
    project.write("tests/test_add.py", FILES["tests/test_add.py"] + "\n")  # no code change
    result = pytester.runpytest("--changed-only", "--lf")
    result.assert_outcomes(failed=1)


def test_works_under_xdist(pytester, project):
    flip_negate(project)
    result = pytester.runpytest_subprocess("--changed-only", "-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)


def test_nothing_selected_still_imports_the_changed_module(pytester, project):
    project.commit(
        "lazy",
        **{
            "pkg/extra.py": "def unused():\n    return 1\n",
            "tests/test_lazy.py": (
                "def test_lazy():\n    from pkg.extra import unused\n\n    assert unused() == 1\n"
            ),
        },
    )
    project.write("pkg/extra.py", "import no_such_module_xyz\n\n\ndef unused():\n    return 1\n")
    result = pytester.runpytest("--changed-only", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "0 selected, 0 deselected by --changed-only (4 test files*",
            "and nothing selected: the changed modules must still import",
            "*import pkg.extra failed: ModuleNotFoundError: No module named 'no_such_module_xyz'",
        ]
    )


def test_an_import_breaking_change_fails_even_with_nothing_selected(pytester, project):
    text = (project.path / "pkg/core.py").read_text()
    project.write("pkg/core.py", "import no_such_module_xyz\n" + text)
    result = pytester.runpytest("--changed-only", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*import pkg.core failed: ModuleNotFoundError*no_such_module_xyz*"]
    )


def test_nothing_changed_runs_nothing(pytester, project):
    result = pytester.runpytest("--changed-only", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.stdout.fnmatch_lines(["0 selected, 0 deselected by --changed-only (3 test files*"])


def test_a_module_that_never_imported_here_is_skipped_not_failed(pytester, project):
    win = (
        "import winreg_like_missing_xyz\n\n\ndef other():\n    return 0\n\n\n"
        "def unused():\n    return {}\n"
    )
    project.commit(  # like a Windows-only module and its test, skipped elsewhere
        "platform",
        **{
            "pkg/win.py": win.format(1),
            "tests/test_win.py": (
                "import pytest\n\n\ndef test_win():\n"
                "    pytest.importorskip('winreg_like_missing_xyz')\n"
                "    from pkg.win import other\n\n    assert other() == 0\n"
            ),
        },
    )
    project.write("pkg/win.py", win.format(2))
    result = pytester.runpytest("--changed-only", "-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        ["*import pkg.win: winreg_like_missing_xyz was missing before the change too*"]
    )


def test_changed_base_compares_with_the_merge_base(pytester, project):
    project.branch("feature")
    flip_negate(project)
    project.commit("flip")
    result = pytester.runpytest(
        "--changed-only", "--changed-base", "main", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(failed=1)
    plain = pytester.runpytest("--changed-only", "-p", "no:cacheprovider")  # HEAD: nothing
    assert plain.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_changed_staged_uses_the_index(pytester, project):
    flip_negate(project)
    project.stage()
    project.write("tests/test_add.py", "def test_add():\n    assert False\n")  # unstaged
    result = pytester.runpytest("--changed-only", "--changed-staged", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["1 selected, 0 deselected by --changed-only (2 test files*"])


def test_unknown_base_is_a_usage_error(pytester, project):
    result = pytester.runpytest(
        "--changed-only", "--changed-base", "nope", "-p", "no:cacheprovider"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--changed-only: unknown base ref 'nope'*"])


def test_recorded_coverage_narrows_a_body_change(pytester, project):
    recorded = pytester.runpytest_subprocess("--record-coverage", "-p", "no:cacheprovider")
    recorded.assert_outcomes(passed=5)
    recorded.stdout.fnmatch_lines(
        ["*code-assistant coverage map: *.code-assistant/coverage/*.json"]
    )
    text = (project.path / "pkg/core.py").read_text()
    project.write("pkg/core.py", text.replace("return 1\n", "return 2\n"))
    result = pytester.runpytest("--changed-only", "-v", "-p", "no:cacheprovider")
    # statically both tests name `maybe`; only one ever ran its body
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "1 selected, 1 deselected by --changed-only (2 test files*",
            "*test_runs_it: covered lines 14 of pkg/core.py*",
        ]
    )


def test_recorded_coverage_keeps_tests_inherited_from_a_mixin(pytester, project):
    project.commit(
        "mixin",
        **{
            "tests/test_mixin.py": (
                "from pkg import maybe\n\n\nclass Mixin:\n    def test_maybe(self):\n"
                "        assert maybe(True) == 1\n\n\nclass TestReal(Mixin):\n    pass\n"
            )
        },
    )
    result = record_then_edit(pytester, project, "pkg/core.py", "return 1\n", "return 2\n")
    # the map names the test by its node id (TestReal::test_maybe), defined in Mixin
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*tests/test_mixin.py::TestReal::test_maybe: *"])


def test_stale_and_corrupt_maps_are_ignored_with_a_warning(pytester, project):
    pytester.runpytest_subprocess("--record-coverage", "-p", "no:cacheprovider")
    folder = project.path / ".code-assistant" / "coverage"
    (recorded,) = folder.glob("*.json")
    project.commit("move HEAD", **{"NOTES.md": "x\n"})
    text = (project.path / "pkg/core.py").read_text()
    project.write("pkg/core.py", text.replace("return 1\n", "return 2\n"))
    stale = pytester.runpytest("--changed-only", "-p", "no:cacheprovider")
    stale.stdout.fnmatch_lines(["*coverage map ignored: recorded at *, not at the base * (stale)*"])
    stale.assert_outcomes(passed=1, failed=1)  # the static selection, unnarrowed
    head = project.git("rev-parse", "HEAD")
    (folder / f"{head}.json").write_text(
        json.dumps({"schema": "code-assistant/coverage-map@2", "commit": head, "tests": 3})
    )
    corrupt = pytester.runpytest("--changed-only", "-p", "no:cacheprovider")
    corrupt.stdout.fnmatch_lines(["*coverage map ignored: *.json is corrupt*"])
    corrupt.assert_outcomes(passed=1, failed=1)
    (folder / f"{head}.json").write_text(
        json.dumps({"schema": "code-assistant/coverage-map@1", "commit": head, "tests": []})
    )
    older = pytester.runpytest("--changed-only", "-p", "no:cacheprovider")
    older.stdout.fnmatch_lines(
        ["*coverage map ignored: *.json was recorded by another version (*@1*); record it again*"]
    )
    older.assert_outcomes(passed=1, failed=1)
    assert recorded.is_file()


def test_plain_runs_do_not_load_the_selection_core(pytester, project):
    pytester.makepyfile(
        test_probe="""
        import sys

        def test_probe():
            assert "code_assistant_lora.select.engine" not in sys.modules
            assert "code_assistant_lora.select" not in sys.modules
        """
    )
    result = pytester.runpytest_subprocess("test_probe.py", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_recorded_coverage_narrows_to_the_statements_an_edit_touched(pytester, project):
    pytester.runpytest_subprocess("--record-coverage", "-p", "no:cacheprovider")
    text = (project.path / "pkg/core.py").read_text()
    # `return 0` (line 15) is in maybe's body, but no test ever reached it
    project.write("pkg/core.py", text.replace("    return 0\n", "    return 5\n"))
    result = pytester.runpytest("--changed-only", "-v", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["0 selected, 0 deselected by --changed-only (3 test files*"])
    result.stdout.no_fnmatch_line("*test_runs_it: *")
    # an edit that adds a line changes the body's shape: the whole body decides again
    project.write("pkg/core.py", text.replace("    return 0\n", "    x = 0\n    return x\n"))
    reshaped = pytester.runpytest("--changed-only", "-v", "-p", "no:cacheprovider")
    reshaped.stdout.fnmatch_lines(["*test_runs_it: covered lines 13-15 of pkg/core.py*"])


REGISTRY = {
    "pkg/handlers.py": (
        "HANDLERS = {}\n\n\ndef register(func):\n    HANDLERS[func.__name__] = func\n"
        "    return func\n\n\n@register\ndef double(x):\n    return 2 * x\n"
    ),
    "tests/test_handlers.py": (
        "from pkg.handlers import HANDLERS, double\n\n\ndef test_double():\n"
        "    assert double(2) == 4\n\n\ndef test_registered():\n    assert 'double' in HANDLERS\n"
    ),
}


def test_recorded_coverage_refutes_that_a_registered_function_runs_at_import(pytester, project):
    project.commit("registry", **REGISTRY)
    project.write("pkg/handlers.py", REGISTRY["pkg/handlers.py"].replace("2 * x", "3 * x"))
    static = pytester.runpytest("--changed-only", "-v", "-p", "no:cacheprovider")
    # statically, a decorated function may run at import time: every importer is selected
    static.stdout.fnmatch_lines(["*test_registered: imports pkg/handlers.py*"])
    project.git("checkout", "--", "pkg/handlers.py")
    narrowed = record_then_edit(pytester, project, "pkg/handlers.py", "2 * x", "3 * x")
    narrowed.assert_outcomes(failed=1)
    narrowed.stdout.fnmatch_lines(["*test_double: covered lines 11 of pkg/handlers.py*"])
    narrowed.stdout.no_fnmatch_line("*test_registered: *")


def test_recorded_coverage_keeps_registered_code_that_did_run_at_import(pytester, project):
    project.commit(
        "registry",
        **{**REGISTRY, "pkg/handlers.py": REGISTRY["pkg/handlers.py"] + "\nFOUR = double(2)\n"},
    )
    result = record_then_edit(pytester, project, "pkg/handlers.py", "2 * x", "3 * x")
    # the body ran while pkg.handlers was imported: the map cannot narrow it
    result.stdout.fnmatch_lines(["*test_registered: imports pkg/handlers.py*"])
    result.stdout.no_fnmatch_line("*covered lines*")


SHARED_FIXTURE = {
    "tests/conftest.py": (
        "import pytest\n\nfrom pkg import maybe\n\n\n@pytest.fixture(scope='session')\n"
        "def answer():\n    return maybe(True)\n"
    ),
    "tests/test_answer.py": (
        "def test_answer_exists(answer):\n    assert answer is not None\n\n\n"
        "def test_answer_is_one(answer):\n    assert answer == 1\n"
    ),
}


def test_a_shared_fixtures_lines_count_for_every_test_that_uses_it(pytester, project):
    project.commit("shared fixture", **SHARED_FIXTURE)
    result = record_then_edit(pytester, project, "pkg/core.py", "return 1\n", "return 2\n")
    # the session fixture ran maybe() once, during test_answer_exists; the test it breaks is
    # the second one, which reused the value
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(["*test_answer_is_one: covered lines 14 of pkg/core.py*"])


def test_recording_starts_before_conftest_imports(pytester, project):
    project.commit(
        "conftest computes at import",
        **{
            "tests/conftest.py": (
                "import pytest\n\nfrom pkg import negate\n\nMINUS_ONE = negate(1)\n\n\n"
                "@pytest.fixture\ndef minus_one():\n    return MINUS_ONE\n"
            ),
            "tests/test_minus.py": "def test_minus(minus_one):\n    assert minus_one == -1\n",
        },
    )
    pytester.runpytest_subprocess("--record-coverage", "-p", "no:cacheprovider")
    folder = project.path / ".code-assistant" / "coverage"
    (recorded,) = folder.glob("*.json")
    document = json.loads(recorded.read_text())
    assert document["schema"] == "code-assistant/coverage-map@2"
    negate_body = document["sets"][document["files"]["pkg/core.py"]["lines"]["9"]]
    assert -1 in negate_body  # ran while tests/conftest.py was imported, before any test
    flip_negate(project)
    result = pytester.runpytest("--changed-only", "-v", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=2)  # test_negate and test_minus (the conftest's constant)
    result.stdout.no_fnmatch_line("*covered lines*")


def test_recording_under_xdist_is_refused(pytester, project):
    result = pytester.runpytest_subprocess("--record-coverage", "-n", "2", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--record-coverage: run without -n (xdist) to record*"])
    assert not (project.path / ".code-assistant" / "coverage").exists()
