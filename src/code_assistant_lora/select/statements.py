"""The statements an in-place edit of a function body touched, for statement-level narrowing.

A test that never executed a statement cannot see a change made inside it, provided nothing
else moved: the edit keeps every line where it was (the hunk replaces as many lines as it
removes) and the body's statement structure is the same on both sides (the same kinds of
statement at the same places), so the two programs differ only inside the touched statements and
a run that never reached them is identical. Only lines that run exactly when their statement
runs qualify: a simple statement, or the header (condition, iterable) of `if`, `while` and
`for`. Anything else (an `else:` or `except` line, a nested def's signature or decorators, a
docstring, a new or removed statement) answers None, and the caller falls back to the whole body.
"""

from __future__ import annotations

import ast

from .source import DefRange, parse

# statements whose own header line(s) run once each time the statement runs, before its body
_HEADER_FIELD = {ast.If: "test", ast.While: "test", ast.For: "iter", ast.AsyncFor: "iter"}


def touched_statement_spans(
    old_text: str,
    new_text: str,
    hunk: tuple[int, int, int, int],
    old_def: DefRange,
    new_def: DefRange,
) -> list[tuple[int, int]] | None:
    """Old-side line spans of the statements `hunk` (old first, old last, new first, new last)
    changes inside `old_def`'s body, or None when the edit cannot be narrowed to statements."""
    old_first, old_last, new_first, new_last = hunk
    if old_last < old_first or old_last - old_first != new_last - new_first:
        return None  # an insertion or deletion, or a hunk that moves lines
    if new_first - new_def.start != old_first - old_def.start:
        return None
    old_tree, new_tree = parse(old_text), parse(new_text)
    if old_tree is None or new_tree is None:
        return None
    old_body = _body_statements(old_tree, old_def)
    new_body = _body_statements(new_tree, new_def)
    if old_body is None or new_body is None:
        return None
    if _shape(old_body, old_def.start) != _shape(new_body, new_def.start):
        return None
    if _docstring_lines(old_body, old_def) & set(range(old_first, old_last + 1)):
        return None
    old_lines = old_text.splitlines()
    new_lines = new_text.splitlines()
    spans: list[tuple[int, int]] = []
    for offset in range(old_last - old_first + 1):
        line = old_first + offset
        span = _own_span(old_body, line)
        if span is None:
            before = _stripped(old_lines, line)
            after = _stripped(new_lines, new_first + offset)
            if _is_inert(before) and _is_inert(after):
                continue  # a blank or comment line on both sides
            return None
        if span not in spans:
            spans.append(span)
    return spans or None


def _body_statements(tree: ast.Module, def_range: DefRange) -> list[ast.stmt] | None:
    for node in ast.walk(tree):
        if (
            isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.lineno <= def_range.body_start
            and (node.body and node.body[0].lineno == def_range.body_start)
            and node.end_lineno == def_range.end
        ):
            return [n for n in ast.walk(node) if isinstance(n, ast.stmt) and n is not node]
    return None


def _shape(statements: list[ast.stmt], start: int) -> list[tuple]:
    return sorted(
        (type(n).__name__, n.lineno - start, n.end_lineno - start, n.col_offset) for n in statements
    )


def _docstring_lines(statements: list[ast.stmt], def_range: DefRange) -> set[int]:
    first = next((n for n in statements if n.lineno == def_range.body_start), None)
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return set(range(first.lineno, first.end_lineno + 1))
    return set()


def _own_span(statements: list[ast.stmt], line: int) -> tuple[int, int] | None:
    """The span of the innermost statement whose own code is on `line`: a simple statement's
    whole span, a supported compound statement's header; None when the line belongs to no
    statement or only to a compound statement's other parts."""
    containing = [n for n in statements if n.lineno <= line <= n.end_lineno]
    if not containing:
        return None
    innermost = min(containing, key=lambda n: (n.end_lineno - n.lineno, -n.lineno))
    if not hasattr(innermost, "body"):
        return innermost.lineno, innermost.end_lineno
    field = _HEADER_FIELD.get(type(innermost))
    if field is None:
        return None
    header_end = getattr(innermost, field).end_lineno
    if innermost.lineno <= line <= header_end:
        return innermost.lineno, header_end
    return None


def _stripped(lines: list[str], line: int) -> str:
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def _is_inert(text: str) -> bool:
    return not text or text.startswith("#")
