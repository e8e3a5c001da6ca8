"""The selection engine on real git repositories: signals, safety rules and reasons."""

from __future__ import annotations

import pytest

from code_assistant_lora.select.change import collect
from code_assistant_lora.select.engine import select_tests

PACKAGE = {
    "pkg/__init__.py": "from .core import *\nfrom .shapes import Square\n",
    "pkg/core.py": (
        '"""Core functions."""\n\n'
        "__all__ = ['add', 'double', 'negate']\n\n\n"
        "def add(a, b):\n    return a + b\n\n\n"
        "def double(a):\n    return add(a, a)\n\n\n"
        "def negate(a):\n    return -a\n"
    ),
    "pkg/shapes.py": (
        "class Square:\n"
        "    def __init__(self, side):\n        self.side = side\n\n"
        "    def area(self):\n        return self.side * self.side\n\n"
        "    def scaled(self, k):\n        return Square(self.side * k)\n"
    ),
    "tests/test_add.py": "from pkg import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n",
    "tests/test_double.py": (
        "import pkg\n\n\ndef test_double():\n    assert pkg.double(2) == 4\n\n\n"
        "def test_unrelated():\n    assert True\n"
    ),
    "tests/test_negate.py": (
        "from pkg.core import negate\n\n\ndef test_negate():\n    assert negate(1) == -1\n"
    ),
    "tests/test_shapes.py": (
        "from pkg import Square\n\n\nclass TestSquare:\n"
        "    def test_area(self):\n        assert Square(2).area() == 4\n\n"
        "    def test_scaled(self):\n        assert Square(1).scaled(3).side == 3\n"
    ),
}


@pytest.fixture
def project(git_repo):
    """A committed project: a package whose __init__ re-exports everything, and its tests."""
    repo = git_repo("project")
    repo.commit("base", **PACKAGE)
    return repo


def selected(repo, **kwargs):
    selection = select_tests(collect(repo.path, **kwargs))
    return selection, {t.nodeid: t.reason for t in selection.tests}


def test_no_change_selects_nothing(project):
    selection, ids = selected(project)
    assert ids == {}
    assert selection.import_checks == ()


def test_function_change_selects_only_the_tests_that_reach_it(project):
    project.write(
        "pkg/core.py", project.path.joinpath("pkg/core.py").read_text().replace("-a", "a")
    )
    selection, ids = selected(project)
    # the package __init__ re-exports everything, yet only the test using negate is selected
    assert list(ids) == ["tests/test_negate.py::test_negate"]
    assert ids["tests/test_negate.py::test_negate"].startswith("imports pkg/core.py via ")
    assert selection.import_checks == ("pkg.core",)


def test_callers_are_followed_through_re_exports(project):
    project.write(
        "pkg/core.py", project.path.joinpath("pkg/core.py").read_text().replace("a + b", "a - b")
    )
    _, ids = selected(project)
    assert set(ids) == {"tests/test_add.py::test_add", "tests/test_double.py::test_double"}
    assert "pkg.core.double -> pkg.core.add" in ids["tests/test_double.py::test_double"]


def test_method_change_selects_the_users_of_the_class(project):
    text = project.path.joinpath("pkg/shapes.py").read_text()
    project.write("pkg/shapes.py", text.replace("self.side * self.side", "self.side + self.side"))
    _, ids = selected(project)
    assert set(ids) == {
        "tests/test_shapes.py::TestSquare::test_area",
        "tests/test_shapes.py::TestSquare::test_scaled",
    }


def test_changed_test_is_selected_as_changed(project):
    project.write(
        "tests/test_add.py", "from pkg import add\n\n\ndef test_add():\n    assert add(2, 2) == 4\n"
    )
    _, ids = selected(project)
    assert ids == {"tests/test_add.py::test_add": "changed"}


def test_new_test_file_runs_whole(project):
    project.write("tests/test_new.py", "def test_new():\n    assert 1\n")
    _, ids = selected(project)
    assert ids == {"tests/test_new.py": "changed"}


def test_comment_only_change_selects_nothing_and_says_so(project):
    project.write("pkg/core.py", project.path.joinpath("pkg/core.py").read_text() + "# a comment\n")
    selection, ids = selected(project)
    assert ids == {}
    assert selection.files[0].detail == "no code change (comments or formatting only)"


def test_import_time_use_selects_every_importer(project):
    project.write(
        "pkg/shapes.py",
        project.path.joinpath("pkg/shapes.py").read_text() + "\nUNIT = Square(1).area()\n",
    )
    _, ids = selected(project)
    # shapes.py's import-time code changed: every test that imports the package runs
    assert set(ids) == {
        "tests/test_add.py",
        "tests/test_double.py",
        "tests/test_negate.py",
        "tests/test_shapes.py",
    }


def test_conftest_change_selects_its_folder(project):
    project.commit(
        "conftest",
        **{
            "tests/unit/conftest.py": "X = 1\n",
            "tests/unit/test_u.py": "def test_u():\n    pass\n",
        },
    )
    project.write("tests/unit/conftest.py", "X = 2\n")
    _, ids = selected(project)
    assert ids == {"tests/unit": "conftest changed: tests/unit/conftest.py"}


def test_fixture_in_conftest_selects_the_tests_requesting_it(project):
    project.commit(
        "fixtures",
        **{
            "tests/conftest.py": (
                "import pytest\nfrom pkg import negate\n\n\n@pytest.fixture\n"
                "def flipped():\n    return negate(3)\n"
            ),
            "tests/test_fixture.py": (
                "def test_uses(flipped):\n    assert flipped == -3\n\n\n"
                "def test_does_not_use():\n    assert True\n"
            ),
        },
    )
    project.write(
        "pkg/core.py", project.path.joinpath("pkg/core.py").read_text().replace("-a", "0 - a")
    )
    _, ids = selected(project)
    assert set(ids) == {"tests/test_fixture.py::test_uses", "tests/test_negate.py::test_negate"}


def test_test_configuration_selects_the_whole_suite(project):
    project.commit("pyproject", **{"pyproject.toml": '[tool.pytest.ini_options]\naddopts = "-q"\n'})
    project.write("pyproject.toml", '[tool.pytest.ini_options]\naddopts = "-x"\n')
    selection, ids = selected(project)
    assert selection.whole_suite is not None
    assert "test configuration changed: pyproject.toml [tool.pytest.ini_options]" in ids[""]


def test_tool_only_pyproject_change_selects_nothing(project):
    project.commit("pyproject", **{"pyproject.toml": "[tool.ruff]\nline-length = 100\n"})
    project.write("pyproject.toml", "[tool.ruff]\nline-length = 99\n")
    selection, ids = selected(project)
    assert ids == {}
    assert selection.files[0].placement == "none"


def test_lock_files_select_the_whole_suite(project):
    project.write("poetry.lock", "# lock\n")
    _, ids = selected(project)
    assert ids == {"": "dependency manifest changed: poetry.lock"}


def test_deleted_module_selects_its_former_importers(project):
    (project.path / "pkg/shapes.py").unlink()
    _, ids = selected(project)
    # pkg/__init__ imported it at import time: every test importing the package runs whole
    assert {"tests/test_shapes.py", "tests/test_add.py"} <= set(ids)


def test_renamed_module_selects_its_former_importers(project):
    project.git("mv", "pkg/core.py", "pkg/basics.py")
    _, ids = selected(project)
    assert {"tests/test_negate.py", "tests/test_add.py"} <= set(ids)


def test_syntax_error_selects_the_importers(project):
    project.write("pkg/core.py", "def add(a, b:\n")
    selection, ids = selected(project)
    assert "tests/test_add.py" in ids
    assert selection.files[0].detail.startswith("does not parse")


def test_data_file_selects_the_tests_that_name_it(project):
    project.commit(
        "data",
        **{
            "tests/data/cases.json": "[1]\n",
            "tests/data/other.json": "[2]\n",
            "tests/test_data.py": (
                "import json, pathlib\n\n\ndef test_cases():\n"
                "    assert json.loads((pathlib.Path(__file__).parent / 'data' / 'cases.json').read_text())\n\n\n"
                "def test_plain():\n    assert True\n"
            ),
        },
    )
    project.write("tests/data/cases.json", "[3]\n")
    _, ids = selected(project)
    assert set(ids) == {"tests/test_data.py::test_cases"}


def test_unmentioned_data_in_a_test_tree_selects_the_tree(project):
    project.commit("data", **{"tests/fixtures/blob.bin": b"\x00\x01"})
    project.write("tests/fixtures/blob.bin", b"\x00\x02")
    _, ids = selected(project)
    assert ids == {"tests": "data file in the test tree: tests/fixtures/blob.bin"}


def test_unmapped_file_selects_the_whole_suite(project):
    project.write("tools/deploy.sh", "echo hi\n")
    _, ids = selected(project)
    assert ids == {"": "fallback: unmapped file tools/deploy.sh"}


def test_documentation_selects_nothing(project):
    project.write("README.md", "# hello\n")
    selection, ids = selected(project)
    assert ids == {}
    assert selection.files[0].detail == "not read by tests: README.md"


def test_module_no_test_imports_falls_back_to_the_suite(project):
    project.commit("script", **{"scripts/tool.py": "def main():\n    return 1\n"})
    project.write("scripts/tool.py", "def main():\n    return 2\n")
    _, ids = selected(project)
    assert ids == {"": "fallback: unmapped file scripts/tool.py (no test imports it)"}


def test_naming_convention_is_the_last_hint(project):
    project.commit(
        "script",
        **{
            "scripts/tool.py": "def main():\n    return 1\n",
            "tests/test_tool.py": "import subprocess\n\n\ndef test_tool():\n    assert subprocess\n",
        },
    )
    project.write("scripts/tool.py", "def main():\n    return 2\n")
    _, ids = selected(project)
    assert ids == {
        "tests/test_tool.py": "naming: tests/test_tool.py matches scripts/tool.py (no test imports it)"
    }


def test_dynamic_import_with_a_computed_name_is_conservative(project):
    project.commit(
        "dynamic",
        **{
            "tests/test_dynamic.py": (
                "import importlib\n\n\ndef test_load():\n    name = 'pkg.' + 'core'\n"
                "    assert importlib.import_module(name)\n"
            )
        },
    )
    project.write(
        "pkg/core.py", project.path.joinpath("pkg/core.py").read_text().replace("-a", "a")
    )
    _, ids = selected(project)
    assert "tests/test_dynamic.py::test_load" in ids


def test_staged_and_range_sources(project):
    project.write(
        "pkg/core.py", project.path.joinpath("pkg/core.py").read_text().replace("-a", "a")
    )
    project.stage()
    _, staged = selected(project, staged=True)
    assert list(staged) == ["tests/test_negate.py::test_negate"]
    project.branch("feature")
    project.commit("flip")
    _, nothing = selected(project, base="feature", head="feature")
    assert nothing == {}
    _, branch = selected(project, base="main", head="feature")
    assert list(branch) == ["tests/test_negate.py::test_negate"]


def test_match_maps_items_to_reasons(project):
    text = project.path.joinpath("pkg/shapes.py").read_text()
    project.write("pkg/shapes.py", text.replace("self.side * self.side", "self.side ** 2"))
    selection, _ = selected(project)
    assert selection.match("tests/test_shapes.py", ["TestSquare.test_area"])
    assert selection.match("tests/test_add.py", ["test_add"]) is None


def test_tests_inherited_from_a_mixin_are_named_by_their_collected_class(project):
    project.commit(
        "mixin",
        **{
            "tests/test_mixin.py": (
                "import unittest\n\nfrom pkg.core import negate\n\n\nclass NegateMixin:\n"
                "    def test_negate(self):\n        assert negate(2) == -2\n\n\n"
                "class NegateTests(NegateMixin, unittest.TestCase):\n    pass\n\n\n"
                "class OtherTests(NegateMixin, unittest.TestCase):\n"
                "    def test_negate(self):\n        assert True\n"
            )
        },
    )
    project.write(
        "pkg/core.py", project.path.joinpath("pkg/core.py").read_text().replace("-a", "a")
    )
    _, ids = selected(project)
    # NegateMixin is never collected; OtherTests overrides the test with its own, unaffected one
    assert set(ids) == {
        "tests/test_mixin.py::NegateTests::test_negate",
        "tests/test_negate.py::test_negate",
    }
