"""The react rule pack: the rules of hooks, stale dependency lists and raw HTML injection.

Claims `.tsx`/`.jsx` files, custom-hook modules (`use*.ts`/`use*.js`) and other JS/TS files that
import React. Checks read the masked source from the typescript pack (comments and string
contents blanked, brackets matched), find components (capitalised functions) and hooks (`use*`
functions), and reason about blocks, statements and argument lists around each hook call.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator

from ...findings import Severity
from ..rule import FileUnderReview, Hit, ReviewContext, Rule, RulePack
from .python import is_test_path
from .typescript import Func, JsSource, js_source, safe_html_expression

_JSX_SUFFIXES = frozenset({".tsx", ".jsx"})
_SCRIPT_SUFFIXES = frozenset({".ts", ".js", ".mjs", ".cjs", ".mts", ".cts"})
_GENERATED = re.compile(r"(?:^|/)(?:node_modules|dist|build|vendor)/|\.min\.[cm]?js$")
_IMPORTS_REACT = re.compile(
    r"""from\s+['"](?:react|preact/hooks)['"]|require\(\s*['"]react['"]\s*\)"""
)
_HOOK_MODULE = re.compile(r"^use[A-Z0-9_-]")
_COMPONENT_OR_HOOK = re.compile(r"^(?:[A-Z]|use[A-Z0-9]|default$)")
_HOOK_CALL = re.compile(r"(?<![\w$.])(?:React\s*\.\s*)?(use[A-Z][\w$]*)\s*(?:<[^()]*?>)?\s*\(")
_DEFINED = re.compile(r"\bfunction\s*\*?\s*$")
_RETURN = re.compile(r"(?<![\w$.])return\b")
_LOOPS = frozenset({"for", "while", "do"})
_CONDITIONS = frozenset({"if", "else", "switch", "catch"})
_CONDITIONAL_EXPR = re.compile(r"(?<![\w$])(?:if|else)(?![\w$])|&&|\|\||\?\?|\?(?!\.)")
_LOOP_EXPR = re.compile(r"(?<![\w$])(?:for|while)(?![\w$])")
_CONTINUES_BEFORE = re.compile(r"(?:[=?:(,\[]|&&|\|\||\?\?)\s*$")
_CONTINUES_AFTER = re.compile(r"^\s*(?:[?:.]|&&|\|\||\?\?)")


def _is_react_file(file: FileUnderReview) -> bool:
    if file.suffix in _JSX_SUFFIXES or _HOOK_MODULE.match(file.name):
        return True
    return bool(_IMPORTS_REACT.search(file.text or ""))


def _owner(src: JsSource, pos: int) -> tuple[Func | None, bool]:
    """The component or hook around `pos`, and whether a nested callback sits in between."""
    for depth, func in enumerate(src.functions(pos)):
        if _COMPONENT_OR_HOOK.match(func.name):
            return func, depth > 0
    return None, False


def _statement_prefix(src: JsSource, block: int, pos: int) -> str:
    """The code of the statement holding `pos`, from its start up to `pos`, with bracket groups
    closed before `pos` blanked (so `useA(x || y)` or `if (a && b) {...}` earlier on does not
    leak into the next statement)."""
    code = src.code
    parts: list[str] = []
    cursor = block + 1
    for open_pos in src.opens[bisect_right(src.opens, block) :]:
        if open_pos < cursor:
            continue
        if open_pos >= pos:
            break
        close = src.close_of[open_pos]
        if close < pos:
            parts.append(code[cursor : open_pos + 1])
            cursor = close
    parts.append(code[cursor:pos])
    text = "".join(parts)
    text = text[max(text.rfind(";"), text.rfind("{"), text.rfind("}")) + 1 :]
    lines = text.split("\n")
    keep = [lines.pop()]
    while lines and (_CONTINUES_AFTER.match(keep[0]) or _CONTINUES_BEFORE.search(lines[-1])):
        keep.insert(0, lines.pop())
    return "\n".join(keep)


def _violation(src: JsSource, owner: Func, nested: bool, pos: int) -> str | None:
    """Why the hook call at `pos` breaks the rules of hooks, or None."""
    if nested:
        return "inside a nested callback"
    for brace in src.braces(pos):
        if brace == owner.body[0]:
            break
        keyword = src.control(brace)
        if keyword in _LOOPS:
            return "inside a loop"
        if keyword in _CONDITIONS:
            return "inside a condition"
    block = next(src.braces(pos), owner.body[0])
    prefix = _statement_prefix(src, block, pos)
    if "=>" in prefix:
        return "inside a nested callback"
    if _LOOP_EXPR.search(prefix):
        return "inside a loop"
    if _CONDITIONAL_EXPR.search(prefix):
        return "inside a condition"
    for match in _RETURN.finditer(src.code, owner.body[0] + 1, pos):
        inner = next(src.functions(match.start()), None)
        if inner is not None and inner.body == owner.body:
            return "after an early return"
    return None


def check_conditional_hook(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """A hook (`useX(`) called inside a condition, a loop, a nested callback or after an early
    `return` in a component or custom hook: React matches hook state by call order, so the order
    must be the same on every render. Hook calls outside components and hooks (test helpers,
    plain functions) and hook definitions are not judged; conditions inside the hook's own
    arguments (`useState(a || b)`) do not count."""
    if not file.text or not _is_react_file(file):
        return
    src = js_source(file.text)
    for match in _HOOK_CALL.finditer(src.code):
        number = src.line(match.start())
        if not file.is_changed(number) or _DEFINED.search(
            src.code, max(0, match.start() - 20), match.start()
        ):
            continue
        owner, nested = _owner(src, match.start())
        if owner is None:
            continue
        reason = _violation(src, owner, nested, match.start())
        if reason:
            yield Hit(
                number,
                rationale=f"`{match.group(1)}` is called {reason} in `{owner.name}`: hooks must run in the same order on every render, or React mixes up their state.",
            )


# --- dependency lists ---------------------------------------------------------------------------

_DEPS_HOOK = re.compile(
    r"(?<![\w$.])(?:React\s*\.\s*)?(useEffect|useLayoutEffect|useCallback|useMemo)\s*(?:<[^()]*?>)?\s*\("
)
_STATE = re.compile(
    r"(?:const|let|var)\s*\[\s*([A-Za-z_$][\w$]*)\s*(?:,[^\]]*)?\]\s*=\s*(?:React\s*\.\s*)?use(?:State|Reducer)\b"
)
_NAME = re.compile(r"[A-Za-z_$][\w$]*")
_READ = re.compile(r"(?<![\w$.])[A-Za-z_$][\w$]*")
_DECLARED = re.compile(
    r"(?<![\w$.])(?:const|let|var)\s+([A-Za-z_$][\w$]*)|(?<![\w$.])(?:const|let|var)\s*[{\[]([^=]*)="
)
_PARAMS = re.compile(
    r"\(([^()]*)\)\s*(?::[^=()]*)?=>|([A-Za-z_$][\w$]*)\s*=>|function\s*[\w$]*\s*\(([^()]*)\)|catch\s*\(([^()]*)\)"
)
_DEP_ROOT = re.compile(r"\s*(?:\.\.\.)?([A-Za-z_$][\w$]*)")
_OPT_OUT = "exhaustive-deps"


def _split(src: JsSource, open_pos: int) -> list[tuple[int, int]]:
    """The top-level comma-separated parts inside the bracket opening at `open_pos`."""
    code = src.code
    close = src.close_of.get(open_pos, len(code))
    parts: list[tuple[int, int]] = []
    start = pos = open_pos + 1
    while pos < close:
        char = code[pos]
        if char in "([{":
            pos = src.close_of.get(pos, close)
        elif char == ",":
            parts.append((start, pos))
            start = pos + 1
        pos += 1
    if code[start:close].strip():
        parts.append((start, close))
    return parts


def _pattern_names(src: JsSource, start: int, end: int) -> Iterator[str]:
    """Names bound by a parameter or destructuring pattern (`{ a, b: c, d = 1, ...rest }`)."""
    text = src.code[start:end].strip()
    if text.startswith(("{", "[")):
        open_pos = src.code.index(text[0], start)
        for part_start, part_end in _split(src, open_pos):
            part = src.code[part_start:part_end].strip().lstrip(".")
            if ":" in part and not part.split(":", 1)[1].lstrip().startswith(("{", "[")):
                part = part.split(":", 1)[1]
            name = _NAME.match(part.strip().split("=", 1)[0].strip())
            if name:
                yield name.group()
    else:
        name = _NAME.match(text.lstrip("."))
        if name:
            yield name.group()


def _inputs(src: JsSource, owner: Func) -> tuple[set[str], str | None]:
    """Props (a component's destructured first parameter, a hook's parameters) and state
    variables of `owner`, plus the name of an undestructured props object."""
    names: set[str] = set()
    props_object = None
    open_pos, close = owner.params
    params = _split(src, open_pos) if src.code[open_pos] == "(" else [(open_pos, close)]
    hook = owner.name.startswith("use")
    for index, (start, end) in enumerate(params):
        if not hook and index > 0:
            break
        text = src.code[start:end].strip()
        if not hook and not text.startswith("{"):
            props_object = _NAME.match(text).group() if _NAME.match(text) else None
            continue
        names.update(_pattern_names(src, start, end))
    for match in _STATE.finditer(src.code, owner.body[0], owner.body[1]):
        inner = next(src.functions(match.start()), None)
        if inner is not None and inner.body == owner.body:
            names.add(match.group(1))
    return names, props_object


def _shadowed(callback: str) -> set[str]:
    names: set[str] = set()
    for match in _DECLARED.finditer(callback):
        names.update(_NAME.findall(match.group(1) or match.group(2) or ""))
    for match in _PARAMS.finditer(callback):
        names.update(_NAME.findall(next(g for g in match.groups() if g is not None)))
    return names


def _reads(callback: str) -> Iterator[tuple[int, str]]:
    """Identifiers read in `callback` (not property names, object keys, JSX tags or attribute
    names, nor assignment targets)."""
    for match in _READ.finditer(callback):
        before = callback[: match.start()].rstrip()
        after = callback[match.end() :].lstrip()
        if before.endswith("<") or before.endswith("</"):
            continue
        if after.startswith(":") and not after.startswith("::") and before.endswith(("{", ",")):
            continue
        if after.startswith("=") and not after.startswith(("==", "=>")):
            continue
        yield match.start(), match.group()


def _missing(
    src: JsSource, owner: Func, callback: tuple[int, int], deps: list[str]
) -> dict[str, int]:
    """Props and state read in the callback but absent from `deps`: name -> first read offset."""
    names, props_object = _inputs(src, owner)
    text = src.code[callback[0] : callback[1]]
    shadowed = _shadowed(text)
    roots = {m.group(1) for m in map(_DEP_ROOT.match, deps) if m}
    exact = {re.sub(r"[\s?]", "", dep) for dep in deps}
    missing: dict[str, int] = {}
    for offset, name in _reads(text):
        if name in names and name not in roots and name not in shadowed:
            missing.setdefault(name, callback[0] + offset)
    if props_object and props_object not in exact and props_object not in shadowed:
        member = re.compile(rf"(?<![\w$.]){re.escape(props_object)}\s*\??\.\s*([A-Za-z_$][\w$]*)")
        for match in member.finditer(text):
            full = f"{props_object}.{match.group(1)}"
            if not any(
                full == dep or full.startswith(dep + ".") or dep.startswith(full + ".")
                for dep in exact
            ):
                missing.setdefault(full, callback[0] + match.start())
    return missing


def check_missing_dependency(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """`useEffect`/`useLayoutEffect`/`useCallback`/`useMemo` whose callback reads a prop or a
    state variable that its dependency array leaves out, so it keeps seeing a stale value.
    Only props (a component's destructured props or `props.x`, a hook's parameters) and
    `useState`/`useReducer` values count: setters, refs and other locals are stable or out of
    scope here. Calls without a dependency array, names re-declared inside the callback, and
    deliberate opt-outs (`eslint-disable ... exhaustive-deps`) do not fire."""
    if not file.text or not _is_react_file(file):
        return
    src = js_source(file.text)
    for match in _DEPS_HOOK.finditer(src.code):
        owner, _ = _owner(src, match.start())
        args = _split(src, match.end() - 1)
        if owner is None or len(args) < 2:
            continue
        deps_text = src.code[args[1][0] : args[1][1]]
        deps_start = args[1][0] + len(deps_text) - len(deps_text.lstrip())
        if src.code[deps_start] != "[":
            continue
        call_line, deps_line = src.line(match.start()), src.line(deps_start)
        if any(_OPT_OUT in file.line(n) for n in range(call_line - 1, src.line(args[-1][1]) + 2)):
            continue
        deps = [src.code[a:b] for a, b in _split(src, deps_start)]
        missing = _missing(src, owner, args[0], deps)
        if not missing:
            continue
        read_lines = [src.line(offset) for offset in missing.values()]
        line = next((n for n in [deps_line, *read_lines] if file.is_changed(n)), call_line)
        names = ", ".join(f"`{name}`" for name in missing)
        yield Hit(
            line,
            rationale=f"`{match.group(1)}` reads {names} but its dependency array does not list {'it' if len(missing) == 1 else 'them'}: the callback keeps a stale value from an earlier render.",
            suggested_fix=f"Add {names} to the dependency array (or move the read out of the callback).",
        )


# --- raw HTML -----------------------------------------------------------------------------------

_INNER_HTML = re.compile(r"(?<![\w$.])dangerouslySetInnerHTML\s*[=:]\s*")
_HTML_KEY = re.compile(r"\s*['\"]?__html['\"]?\s*:")


def _html_value(src: JsSource, start: int) -> tuple[int, int] | None:
    """The span of the `__html` value in `dangerouslySetInnerHTML={{ __html: ... }}` (or the
    `createElement` props form), or None when no object literal is visible."""
    code = src.code
    if code[start] == "{" and code[start + 1 :].lstrip().startswith("{"):
        start = code.index("{", start + 1)
    if code[start] != "{":
        return None
    for part_start, part_end in _split(src, start):
        key = _HTML_KEY.match(code, part_start)
        if key:
            return key.end(), part_end
    return None


def check_dangerous_html(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """`dangerouslySetInnerHTML` fed a value that is not constant: unless the HTML is
    sanitized, any attacker-controlled part of it runs as script (XSS). String literals,
    `DOMPurify.sanitize(...)`/`sanitize(...)` results (inline or bound to a name first),
    `JSON.stringify` for JSON-LD and UPPER_CASE constants are exempt."""
    if not file.text or not _is_react_file(file) or is_test_path(file.path):
        return
    src = js_source(file.text)
    for match in _INNER_HTML.finditer(src.code):
        number = src.line(match.start())
        if not file.is_changed(number):
            continue
        value = _html_value(src, match.end())
        if value is None:
            continue
        expression = src.text[value[0] : value[1]]
        if not safe_html_expression(expression, src):
            yield Hit(
                number,
                rationale=f"`dangerouslySetInnerHTML` renders `{expression.strip()[:60]}` unsanitized: attacker-controlled HTML in it runs as script (XSS).",
            )


def _matches(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    return (suffix in _JSX_SUFFIXES or suffix in _SCRIPT_SUFFIXES) and not _GENERATED.search(path)


PACK = RulePack(
    name="react",
    matches=_matches,
    checks=(
        (
            Rule(
                id="react.conditional-hook",
                category="rules-of-hooks",
                severity=Severity.MEDIUM,
                rationale="A hook called conditionally, in a loop or after an early return runs a different number of times across renders; React pairs hook state by call order, so state gets mixed up or React throws.",
                suggested_fix="Call the hook unconditionally at the top level of the component or hook, and move the condition inside it (or into the effect/callback).",
            ),
            check_conditional_hook,
        ),
        (
            Rule(
                id="react.missing-hook-dependency",
                category="stale-closure",
                severity=Severity.MEDIUM,
                rationale="A hook callback that reads props or state missing from its dependency array keeps the values of an earlier render, so effects skip updates and memoised callbacks act on stale data.",
                suggested_fix="List every prop and state value the callback reads in the dependency array (react-hooks/exhaustive-deps).",
            ),
            check_missing_dependency,
        ),
        (
            Rule(
                id="react.dangerously-set-inner-html",
                category="unsafe-html-injection",
                severity=Severity.HIGH,
                rationale="`dangerouslySetInnerHTML` with a dynamic value injects raw HTML: any attacker-controlled part of it can run script in the user's session (XSS).",
                suggested_fix="Render the data as text/JSX, or sanitize it first: `{{ __html: DOMPurify.sanitize(html) }}`.",
            ),
            check_dangerous_html,
        ),
    ),
)
