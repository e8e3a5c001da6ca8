"""Method-level selection on real git repositories: a changed method reaches the code that spells
its name, and every place where Python may call it without its name falls back to the class."""

from __future__ import annotations

import pytest

from code_assistant_lora.select.change import collect
from code_assistant_lora.select.engine import select_tests

PARSER = (
    "class Parser:\n"
    "    def __init__(self, strict=False):\n        self.strict = strict\n\n"
    "    def parse(self, text):\n        return self._split(text)\n\n"
    "    def _split(self, text):\n        return text.split(',')\n\n"
    "    def render(self, items):\n        return ','.join(items)\n\n"
    "    def __eq__(self, other):\n        return self.strict == other.strict\n\n"
    "    def __hash__(self):\n        return hash(self.strict)\n"
)
TESTS = {
    "tests/test_parse.py": (
        "from pkg.parser import Parser\n\n\ndef test_parse():\n"
        "    assert Parser().parse('a,b') == ['a', 'b']\n"
    ),
    "tests/test_render.py": (
        "from pkg.parser import Parser\n\n\ndef test_render():\n"
        "    assert Parser().render(['a']) == 'a'\n"
    ),
    "tests/test_getattr.py": (
        "from pkg.parser import Parser\n\n\ndef test_by_string():\n"
        "    assert getattr(Parser(), 'render')(['b']) == 'b'\n"
    ),
}


@pytest.fixture
def project(git_repo):
    repo = git_repo("methods")
    repo.commit("base", **{"pkg/__init__.py": "", "pkg/parser.py": PARSER, **TESTS})
    return repo


def change(repo, old: str, new: str, path: str = "pkg/parser.py") -> dict[str, str]:
    text = repo.path.joinpath(path).read_text()
    assert old in text
    repo.write(path, text.replace(old, new))
    selection = select_tests(collect(repo.path))
    return {t.nodeid: t.reason for t in selection.tests}


def test_private_helper_reaches_callers_of_its_callers(project):
    ids = change(project, "text.split(',')", "text.split(';')")
    assert set(ids) == {"tests/test_parse.py::test_parse"}
    reason = ids["tests/test_parse.py::test_parse"]
    assert "._split -> pkg.parser.Parser._split" in reason
    assert ".parse -> pkg.parser.Parser.parse" in reason


def test_a_name_in_a_string_counts_as_a_call(project):
    ids = change(project, "','.join(items)", "';'.join(items)")
    assert set(ids) == {
        "tests/test_render.py::test_render",
        "tests/test_getattr.py::test_by_string",
    }


def test_dunder_method_falls_back_to_the_whole_class(project):
    ids = change(project, "self.strict == other.strict", "self.strict != other.strict")
    assert set(ids) == {
        "tests/test_parse.py::test_parse",
        "tests/test_render.py::test_render",
        "tests/test_getattr.py::test_by_string",
    }
    assert "whole class" in ids["tests/test_parse.py::test_parse"]
    assert "dunder" in ids["tests/test_parse.py::test_parse"]


def test_computed_attribute_name_falls_back_to_every_caller_of_getattr(project):
    project.commit(
        "dynamic",
        **{
            "tests/test_dynamic.py": (
                "from pkg.parser import Parser\n\n\ndef test_dynamic():\n"
                "    name = 'ren' + 'der'\n"
                "    assert getattr(Parser(), name)(['c']) == 'c'\n"
            )
        },
    )
    ids = change(project, "','.join(items)", "';'.join(items)")
    assert "tests/test_dynamic.py::test_dynamic" in ids
    assert "tests/test_parse.py::test_parse" not in ids


def test_computed_name_on_self_reaches_the_class_family_only(project):
    project.commit(
        "dispatch",
        **{
            "pkg/dispatch.py": (
                "class Dispatcher:\n"
                "    def run(self, kind):\n        return getattr(self, '_on_' + kind)()\n\n"
                "    def _on_a(self):\n        return 'a'\n"
            ),
            "tests/test_dispatch.py": (
                "from pkg.dispatch import Dispatcher\n\n\ndef test_run():\n"
                "    assert Dispatcher().run('a') == 'a'\n"
            ),
        },
    )
    # a method of another class is not reached through Dispatcher.run's computed name
    ids = change(project, "text.split(',')", "text.split(';')")
    assert "tests/test_dispatch.py::test_run" not in ids
    project.write("pkg/parser.py", PARSER)
    ids = change(project, "return 'a'", "return 'b'", path="pkg/dispatch.py")
    assert set(ids) == {"tests/test_dispatch.py::test_run"}
    assert "any method of pkg.dispatch.Dispatcher" in ids["tests/test_dispatch.py::test_run"]


def test_base_outside_the_repository_keeps_methods_with_the_class(git_repo):
    repo = git_repo("external")
    repo.commit(
        "base",
        **{
            "pkg/__init__.py": "",
            "pkg/handler.py": (
                "import logging\n\n\nclass Handler(logging.Handler):\n"
                "    def emit(self, record):\n        self.last = record\n"
            ),
            "tests/test_handler.py": (
                "import logging\n\nfrom pkg.handler import Handler\n\n\ndef test_logs():\n"
                "    log = logging.getLogger('t')\n    handler = Handler()\n"
                "    log.addHandler(handler)\n    log.warning('x')\n"
                "    assert handler.last.msg == 'x'\n"
            ),
        },
    )
    ids = change(repo, "self.last = record", "self.last = None", path="pkg/handler.py")
    # logging calls `emit` by itself: the test never spells it
    assert set(ids) == {"tests/test_handler.py::test_logs"}
    assert "not repository code" in ids["tests/test_handler.py::test_logs"]


def test_protocol_name_and_class_body_alias_stay_with_the_class(git_repo):
    repo = git_repo("protocol")
    repo.commit(
        "base",
        **{
            "pkg/__init__.py": "",
            "pkg/stream.py": (
                "class Stream:\n"
                "    def read(self, n=-1):\n        return 'data'\n\n"
                "    def first(self):\n        return 'a'\n\n"
                "    head = first\n"
            ),
            "tests/test_stream.py": (
                "import json\n\nfrom pkg.stream import Stream\n\n\ndef test_json():\n"
                "    assert json.load(Stream()) == 'data'\n\n\n"
                "def test_alias():\n    assert Stream().head() == 'a'\n"
            ),
        },
    )
    # json.load calls `read` itself (the test has an import error on purpose: no quotes)
    ids = change(repo, "return 'data'", "return '\"data\"'", path="pkg/stream.py")
    assert "tests/test_stream.py::test_json" in ids
    # `head = first` in the class body calls `first` under another name
    ids = change(repo, "return 'a'", "return 'b'", path="pkg/stream.py")
    assert "tests/test_stream.py::test_alias" in ids


def test_doctest_lines_of_docstrings_count_but_prose_does_not(project):
    project.commit(
        "docs",
        **{
            "pkg/api.py": (
                '"""Helpers.\n\n>>> from pkg.parser import Parser\n>>> Parser().render([])\n"""\n'
            ),
            "pkg/prose.py": '"""Mentions render in prose only."""\n\n\ndef f():\n    return 1\n',
        },
    )
    selection = select_tests(collect(project.path))
    assert selection.tests == ()
    change(project, "','.join(items)", "';'.join(items)")
    selection = select_tests(collect(project.path))
    assert "pkg/api.py" in selection.touched_modules
    assert "pkg/prose.py" not in selection.touched_modules


def test_computed_name_on_self_reaches_inherited_and_overriding_methods(git_repo):
    repo = git_repo("family")
    repo.commit(
        "base",
        **{
            "pkg/__init__.py": "",
            "pkg/base.py": (
                "class Base:\n"
                "    def _on_a(self):\n        return 'a'\n\n"
                "    def _on_b(self):\n        return 'b'\n"
            ),
            "pkg/child.py": (
                "from pkg.base import Base\n\n\nclass Child(Base):\n"
                "    def run(self, kind):\n        return getattr(self, '_on_' + kind)()\n\n"
                "    def _on_b(self):\n        return 'B'\n"
            ),
            "tests/test_child.py": (
                "from pkg.child import Child\n\n\ndef test_run():\n"
                "    assert Child().run('a') == 'a'\n"
            ),
        },
    )
    # Child.run picks the inherited Base._on_a off `self` by a computed name
    ids = change(repo, "return 'a'", "return 'x'", path="pkg/base.py")
    assert set(ids) == {"tests/test_child.py::test_run"}
    assert "any method of pkg.base.Base" in ids["tests/test_child.py::test_run"]
