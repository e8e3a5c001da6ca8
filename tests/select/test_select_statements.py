"""Statement-level narrowing: which statements an in-place edit of a body touched."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from code_assistant_lora.select.source import def_ranges
from code_assistant_lora.select.statements import touched_statement_spans

OLD = '''def clamp(value, low, high):
    """Keep value in [low, high]."""
    if value < low:  # below
        return low
    elif value > high:
        return high
    else:
        total = (
            value
            + 0
        )
    # the usual case
    for step in range(
        3
    ):
        pass
    return total
'''


def spans(new: str, line: int, count: int = 1):
    (old_def,) = def_ranges(OLD)
    (new_def,) = def_ranges(new)
    hunk = (line, line + count - 1, line, line + count - 1)
    return touched_statement_spans(OLD, new, hunk, old_def, new_def)


def edit(line: int, before: str, after: str) -> str:
    lines = OLD.splitlines(keepends=True)
    assert before in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(before, after)
    return "".join(lines)


def test_a_simple_statement_is_its_own_span():
    assert spans(edit(4, "return low", "return high"), 4) == [(4, 4)]


def test_an_elif_condition_is_the_header_of_its_if():
    assert spans(edit(5, "value > high", "value >= high"), 5) == [(5, 5)]


def test_a_line_inside_a_multi_line_statement_answers_for_the_whole_statement():
    assert spans(edit(10, "+ 0", "+ 1"), 10) == [(8, 11)]


def test_a_for_header_spans_its_iterable():
    assert spans(edit(14, "3", "4"), 14) == [(13, 15)]


def test_else_lines_docstrings_and_reshaped_bodies_fall_back():
    assert spans(edit(7, "else:", "else:  # x"), 7) is None
    assert spans(edit(2, "Keep", "Hold"), 2) is None
    # the same number of lines, but a statement turned into another kind
    assert spans(edit(16, "pass", "break"), 16) is None


def test_comment_only_lines_inside_a_hunk_are_skipped():
    new = edit(12, "# the usual case", "# the common case")
    new = new.replace("    return total\n", "    return -total\n")
    (old_def,) = def_ranges(OLD)
    (new_def,) = def_ranges(new)
    hunk = (12, 17, 12, 17)  # one wide hunk: every statement in it counts, the comment not
    assert touched_statement_spans(OLD, new, hunk, old_def, new_def) == [
        (13, 15),
        (16, 16),
        (17, 17),
    ]
    hunk = (12, 12, 12, 12)  # nothing but a comment: no statement to narrow to
    assert touched_statement_spans(OLD, new, hunk, old_def, new_def) is None
    both = edit(12, "# the usual case", "# the common case")
    assert spans(both.replace("return total", "return -total"), 17) == [(17, 17)]


def test_insertions_and_deletions_fall_back():
    new = OLD.replace("        return low\n", "        low = low\n        return low\n")
    (old_def,) = def_ranges(OLD)
    (new_def,) = def_ranges(new)
    assert touched_statement_spans(OLD, new, (4, 3, 4, 4), old_def, new_def) is None


@given(st.integers(min_value=2, max_value=17), st.text(max_size=12))
def test_any_one_line_edit_answers_spans_inside_the_body_or_none(line, text):
    lines = OLD.splitlines(keepends=True)
    lines[line - 1] = lines[line - 1].rstrip("\n") + text.replace("\n", " ") + "\n"
    new = "".join(lines)
    defs = def_ranges(new)
    if len(defs) != 1:
        return  # the edit broke the def itself: the caller never asks
    (old_def,) = def_ranges(OLD)
    found = touched_statement_spans(OLD, new, (line, line, line, line), old_def, defs[0])
    if found is not None:
        assert all(old_def.body_start <= a <= line <= b <= old_def.end for a, b in found)
