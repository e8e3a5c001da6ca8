"""Module summaries and digests: what each unit refers to, where a change lands; fuzzed."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from code_assistant_lora.select.source import MODULE, ModuleSummary, def_ranges, digests, summarize

SOURCE = '''"""Doc."""
import os
from .b import helper as h
from . import sub

LIMIT = 3
DEFAULT = Parser()


def register(f):
    REGISTRY.append(f)
    return f


@register
def plugin(a, b=LIMIT):
    return h(a) + sub.thing.go(b)


class Parser(Base):
    kind = LIMIT

    def parse(self, text):
        import json as j
        return j.loads(text) + [os.sep for _ in text]

    def helper(self):
        return super().helper()


def outer():
    def inner(q):
        return q + LIMIT
    return inner
'''


def test_units_and_their_references():
    summary = summarize(SOURCE)
    units = summary.units
    assert set(units) >= {
        "LIMIT",
        "DEFAULT",
        "register",
        "plugin",
        "Parser",
        "Parser.parse",
        "outer",
    }
    assert units["plugin"].refs == ("h", "sub.thing.go", "register", "LIMIT")
    assert "escapes" in units["plugin"].flags  # a registering decorator: import-time dependency
    assert "!0|json||loads" in units["Parser.parse"].refs  # an import inside a function
    assert "os.sep" in units["Parser.parse"].refs
    assert "^helper" in units["Parser.helper"].refs  # super() resolves through the bases
    assert units["Parser"].bases == ("Base",)
    assert units["outer"].calls == ()  # `inner`'s LIMIT is not read when outer runs
    assert units["outer"].refs == ("LIMIT",)
    body = units[MODULE].refs
    assert "Parser()" in body and "plugin" in body and "Parser{}" in body
    imports = {(i.local, i.module, i.name, i.level) for i in summary.imports}
    assert ("h", "b", "helper", 1) in imports and ("sub", "", "sub", 1) in imports


def test_digests_ignore_comments_and_moves_but_not_code():
    before = digests(SOURCE)
    assert digests(SOURCE.replace("    return f\n", "    return f  # same\n")) == before
    changed = digests(SOURCE.replace("q + LIMIT", "q - LIMIT"))
    assert {k for k in before if before[k] != changed[k]} == {"outer"}
    shell = digests(SOURCE.replace("kind = LIMIT", "kind = 4"))
    assert {k for k in before if before[k] != shell[k]} == {"Parser"}
    assert digests("def broken(:\n") is None


def test_def_ranges_give_body_lines_innermost_last():
    ranges = {d.qualname: d for d in def_ranges(SOURCE)}
    assert ranges["outer.inner"].body_start == ranges["outer.inner"].start + 1
    assert ranges["Parser.parse"].end > ranges["Parser.parse"].body_start


def test_summary_round_trips_through_json():
    summary = summarize(SOURCE)
    assert ModuleSummary.from_dict(summary.to_dict()) == summary


def test_unparseable_source_is_marked_not_raised():
    assert summarize("def f(:\n").error == "syntax error"
    assert summarize("x = (" * 300 + ")" * 300).error in (None, "syntax error", "too deeply nested")


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_summarize_never_raises_on_any_text(text):
    summary = summarize(text)
    assert summary.error is not None or MODULE in summary.units
    result = digests(text)
    assert result is None or "<imports>" in result


PIECES = st.sampled_from(
    [
        "import a.b as c\n",
        "from . import x\n",
        "from .m import *\n",
        "def f(a, *b, **c):\n    return g(a)\n",
        "class K(Base, metaclass=M):\n    y = 1\n    def m(self):\n        return self.y\n",
        "@deco\ndef h():\n    pass\n",
        "X = [i for i in range(3)]\n",
        "if X:\n    def f():\n        pass\nelse:\n    f = None\n",
        "try:\n    import z\nexcept ImportError:\n    z = None\n",
        "lambda q: q + 1\n",
        "getattr(obj, name)\n",
        "async def co():\n    await thing()\n",
    ]
)


@settings(max_examples=100, deadline=None)
@given(st.lists(PIECES, max_size=8))
def test_summaries_of_valid_modules_are_consistent(pieces):
    text = "".join(pieces)
    summary = summarize(text)
    assert summary.error is None
    assert ModuleSummary.from_dict(summary.to_dict()) == summary
    assert set(digests(text)) >= {MODULE, "<imports>"}
