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
from itertools import islice

from ...findings import Severity
from ..rule import FileUnderReview, Hit, ReviewContext, Rule, RulePack
from .python import is_test_path
from .typescript import Func, JsSource, _statement_end, js_source, safe_html_expression

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
_TRY = frozenset({"try", "finally"})
_CONDITIONAL_EXPR = re.compile(r"(?<![\w$])(?:if|else)(?![\w$])|&&|\|\||\?\?|\?(?!\.)")
_LOOP_EXPR = re.compile(r"(?<![\w$])(?:for|while)(?![\w$])")
_CONTINUES_BEFORE = re.compile(r"(?:[=?:(,\[]|=>|&&|\|\||\?\?)\s*$")
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
    for open_pos in islice(src.opens, bisect_right(src.opens, block), None):
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
        if keyword in _TRY:
            return "inside a try/finally block"
    block = next(src.braces(pos), owner.body[0])
    prefix = _statement_prefix(src, block, pos)
    if "=>" in prefix:
        return "inside a nested callback"
    if _LOOP_EXPR.search(prefix):
        return "inside a loop"
    if _CONDITIONAL_EXPR.search(prefix):
        return "inside a condition"
    if next(_early_returns(src, owner, pos), None) is not None:
        return EARLY_RETURN
    return None


EARLY_RETURN = "after an early return"


def _early_returns(src: JsSource, owner: Func, pos: int) -> Iterator[int]:
    """Offsets of the `return`s of `owner` itself (not of nested functions) before `pos`."""
    returns = src.memo.get(("returns", owner.body))
    if not isinstance(returns, list):
        returns = [
            match.start()
            for match in _RETURN.finditer(src.code, owner.body[0] + 1, owner.body[1])
            if (inner := next(src.functions(match.start()), None)) is not None
            and inner.body == owner.body
        ]
        src.memo[("returns", owner.body)] = returns
    return iter(returns[: bisect_right(returns, pos - 1)])


class _Changes:
    """Answers "was any line in `first..last` added or changed?" for one file."""

    def __init__(self, file: FileUnderReview) -> None:
        self.everything = file.is_new
        self.lines = sorted(file.added_lines)

    def between(self, first: int, last: int) -> bool:
        if self.everything:
            return True
        index = bisect_right(self.lines, first - 1)
        return index < len(self.lines) and self.lines[index] <= last


def check_conditional_hook(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """A hook (`useX(`) called inside a condition, a loop, a nested callback or after an early
    `return` in a component or custom hook: React matches hook state by call order, so the order
    must be the same on every render. Hook calls outside components and hooks (test helpers,
    plain functions) and hook definitions are not judged; conditions inside the hook's own
    arguments (`useState(a || b)`) do not count."""
    if not file.text or not _is_react_file(file):
        return
    src = js_source(file.text)
    changes = _Changes(file)
    reported_returns: set[int] = set()
    for match in _HOOK_CALL.finditer(src.code):
        number = src.line(match.start())
        if _DEFINED.search(src.code, max(0, match.start() - 20), match.start()):
            continue
        owner, nested = _owner(src, match.start())
        if owner is None:
            continue
        if not file.is_changed(number):
            # An unchanged hook call made conditional by a `return` this change added above it:
            # the return is the changed line to report.
            if nested or not changes.between(src.line(owner.body[0]), number - 1):
                continue
            added = (
                src.line(r)
                for r in _early_returns(src, owner, match.start())
                if file.is_changed(src.line(r))
            )
            line = next(added, None)
            if line is None or _violation(src, owner, nested, match.start()) != EARLY_RETURN:
                continue
            if line not in reported_returns:
                reported_returns.add(line)
                yield Hit(
                    line,
                    end_line=number,  # the span reaches the hook it makes conditional
                    rationale=f"This early return comes before `{match.group(1)}` (line {number}) in `{owner.name}`: the hooks below it run on some renders and not others, so React mixes up their state or throws.",
                    suggested_fix="Move the early return below the last hook call.",
                )
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


_DECLARATION = re.compile(r"(?<![\w$.])(?:const|let|var)\s+(?=[A-Za-z_${\[])")
_FUNCTION_VALUE = re.compile(
    r"\s*(?:async\s*)?(?:function\b|\([^()]*\)\s*(?::[^=;{}]*)?=>|[A-Za-z_$][\w$]*\s*=>)"
)
_HOOK_VALUE = re.compile(r"\s*(?:React\s*\.\s*)?(use[A-Z][\w$]*)\s*(?:<[^()]*?>)?\s*\(")
# Hooks whose results are stable across renders (or handled elsewhere, as useState/useReducer).
_STABLE_HOOKS = frozenset(
    "useRef useId useEffectEvent useRouter useNavigate useDispatch useQueryClient useSetAtom "
    "useSetRecoilState useState useReducer".split()
)
_STABLE_NAME = re.compile(
    r"^(?:set[A-Z]|dispatch|refetch$|mutate|navigate$|router$|startTransition$|queryClient$)"
)
# How a derived name may be used without being a dependency: "call" ignores `name(...)` (a
# function kept in a plain local), "member" also `name.method(...)` (a service object a custom
# hook returns, like `toast.error(...)`); "" ignores nothing (useMemo/useCallback results).
_DERIVED_CALLS = {"useMemo": "", "useCallback": ""}


def _initializer(src: JsSource, pos: int) -> int | None:
    """The offset just after the `=` of the declaration whose binding ends at `pos` (skipping a
    type annotation), or None for a declaration without an initializer on its line."""
    code = src.code
    limit = min(len(code), pos + 300)
    while pos < limit:
        char = code[pos]
        if char in "([{":
            pos = src.close_of.get(pos, limit) + 1
            continue
        if char in ";\n":
            return None
        if char == "=" and code[pos + 1 : pos + 2] not in ("=", ">"):
            return pos + 1
        pos += 1
    return None


def _derived(
    src: JsSource, owner: Func, names: set[str], props_object: str | None
) -> dict[str, tuple[str, frozenset[str]]]:
    """Values `owner` computes from its props/state or reads from hooks (`useContext`,
    `useSelector`, custom hooks, `useMemo`/`useCallback` results): name -> (which call-like
    reads to ignore, see `_DERIVED_CALLS`; the props/state it is computed from, which may stand
    in for it in a dependency array). Functions, refs, setters, router/dispatch handles and
    constants that read nothing reactive are not included."""
    code = src.code
    derived: dict[str, tuple[str, frozenset[str]]] = {}
    for match in _DECLARATION.finditer(code, owner.body[0] + 1, owner.body[1]):
        inner = next(src.functions(match.start()), None)
        if inner is None or inner.body != owner.body:
            continue
        pos = match.end()
        if code[pos] in "{[":
            close = src.close_of.get(pos, owner.body[1])
            bound = list(_pattern_names(src, pos, close + 1))
            after = close + 1
        else:
            name = _NAME.match(code, pos)
            if name is None:
                continue
            bound, after = [name.group()], name.end()
        start = _initializer(src, after)
        if start is None:
            continue
        value = code[start : _statement_end(src, start)]
        if _FUNCTION_VALUE.match(value):
            continue
        hook = _HOOK_VALUE.match(value)
        if hook:
            if hook.group(1) in _STABLE_HOOKS:
                continue
            if hook.group(1) == "useTransition":
                bound = bound[:1]
            calls, sources = _DERIVED_CALLS.get(hook.group(1), "member"), frozenset()
        else:
            reads = {name for _, name in _reads(value)}
            sources = frozenset(reads & (names | derived.keys() | {props_object}))
            if not sources:
                continue
            calls = "call"
        for name in bound:
            if not _STABLE_NAME.match(name):
                derived[name] = (calls, sources)
    return derived


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


_CALL_AFTER = re.compile(r"\s*(?:\?\.\s*)?\(")
_METHOD_CALL_AFTER = re.compile(r"\s*\??\.\s*[A-Za-z_$][\w$]*\s*(?:\?\.\s*)?\(")


def _call_like(text: str, offset: int, calls: str) -> bool:
    """Whether the read of a derived name at `offset` is a use `calls` says to ignore."""
    end = _NAME.match(text, offset).end()
    if not calls:
        return False
    if _CALL_AFTER.match(text, end):
        return True
    return calls == "member" and bool(_METHOD_CALL_AFTER.match(text, end))


def _covered(
    name: str, roots: set[str], derived: dict[str, tuple[str, frozenset[str]]], depth: int = 0
) -> bool:
    """Whether `name` is listed, or is computed only from listed values (`const { items } =
    state` is covered by `state`)."""
    if name in roots:
        return True
    sources = derived.get(name, ("", frozenset()))[1]
    return (
        depth < 8
        and bool(sources)
        and all(_covered(source, roots, derived, depth + 1) for source in sources)
    )


def _missing(
    src: JsSource,
    callback: tuple[int, int],
    deps: list[str],
    inputs: tuple[set[str], str | None, dict[str, tuple[str, frozenset[str]]]],
) -> dict[str, int]:
    """Props, state and values derived from them read in the callback but absent from `deps`:
    name -> first read offset."""
    names, props_object, derived = inputs
    text = src.code[callback[0] : callback[1]]
    shadowed = _shadowed(text)
    roots = {m.group(1) for m in map(_DEP_ROOT.match, deps) if m}
    exact = {re.sub(r"[\s?]", "", dep) for dep in deps}
    missing: dict[str, int] = {}
    for offset, name in _reads(text):
        if name in roots or name in shadowed:
            continue
        if name not in names:
            if name not in derived:
                continue
            if _call_like(text, offset, derived[name][0]) or _covered(name, roots, derived):
                continue
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
    Props (a component's destructured props or `props.x`, a hook's parameters),
    `useState`/`useReducer` values and values derived from them or read from other hooks
    (`useContext`, custom hooks, `useMemo`/`useCallback` results) count; setters, refs,
    router/dispatch handles, locally declared functions and constants are stable or out of scope
    here, and a hook-provided name that is only called (`logout()`, `toast.error(...)`) is taken
    for a function. Calls without a dependency array, names re-declared inside the callback, and
    deliberate opt-outs (`eslint-disable ... exhaustive-deps`) do not fire."""
    if not file.text or not _is_react_file(file):
        return
    src = js_source(file.text)
    changes = _Changes(file)
    inputs_of: dict[
        tuple[int, int], tuple[set[str], str | None, dict[str, tuple[str, frozenset[str]]]]
    ] = {}
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
        if not changes.between(call_line, src.line(args[-1][1])):
            continue  # every line a finding could take is unchanged
        if any(_OPT_OUT in file.line(n) for n in range(call_line - 1, src.line(args[-1][1]) + 2)):
            continue
        deps = [src.code[a:b] for a, b in _split(src, deps_start)]
        if owner.body not in inputs_of:
            names, props_object = _inputs(src, owner)
            inputs_of[owner.body] = (
                names,
                props_object,
                _derived(src, owner, names, props_object),
            )
        missing = _missing(src, args[0], deps, inputs_of[owner.body])
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
    if start >= len(code):
        return None
    if code[start] == "{" and code[start + 1 :].lstrip().startswith("{"):
        start = code.index("{", start + 1)
    if code[start] != "{":
        return None
    for part_start, part_end in _split(src, start):
        key = _HTML_KEY.match(code, part_start)
        if key:
            return key.end(), part_end
    return None


# Renderers whose HTML output escapes its input (syntax highlighters, KaTeX with its default
# `trust: false`), and names imported from static assets (`./logo.svg`, `./snippet.html?raw`).
_ESCAPING_RENDERER = re.compile(
    r"\s*(?:hljs|highlightjs|Prism)\s*\.\s*highlight(?:Auto)?\s*\(|\s*katex\s*\.\s*renderToString\s*\("
)
_ASSET_IMPORT = re.compile(
    r"""(?<![\w$.])import\s+([A-Za-z_$][\w$]*)\s+from\s+['"][^'"]*(?:\?raw|\.svg)['"]"""
)
# A sanitizing helper by name: `sanitizeHtml`, `purify`, `safeHtml`, `toSafeHtml` (not `unsafe`).
_SAFE_HELPER = re.compile(r"(?i:sanitiz|purif)|(?<![A-Za-z])safe|Safe")
_MEMO_ARROW = re.compile(r"\s*(?:React\s*\.\s*)?useMemo\s*\(\s*\(\s*\)\s*=>")
_BOUND_NAME = re.compile(
    r"(?<![\w$.])(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=;]*)?=(?![=>])"
)
_PLAIN_NAME = re.compile(r"\s*([A-Za-z_$][\w$]*)\s*")
_CALLED_NAME = re.compile(r"\s*([A-Za-z_$][\w$.]*?)\s*\(")


def _safe_html(expression: str, src: JsSource) -> bool:
    if safe_html_expression(expression, src) or _ESCAPING_RENDERER.match(expression):
        return True
    name = _PLAIN_NAME.fullmatch(expression)
    return bool(name and name.group(1) in _escaped_names(src))


def _escaped_names(src: JsSource) -> frozenset[str]:
    """Names imported from static assets, or bound to an escaping renderer's output (directly or
    through `useMemo(() => hljs.highlight(...).value, ...)`)."""
    names = src.memo.get("escaped-html-names")
    if not isinstance(names, frozenset):
        found = {m.group(1) for m in _ASSET_IMPORT.finditer(src.text)}
        for match in _BOUND_NAME.finditer(src.code):
            value = src.code[match.end() : _statement_end(src, match.end())]
            memo = _MEMO_ARROW.match(value)
            if _ESCAPING_RENDERER.match(value, memo.end() if memo else 0):
                found.add(match.group(1))
        names = src.memo["escaped-html-names"] = frozenset(found)
    return names


def _indirect_html_safe(src: JsSource, start: int) -> tuple[bool, str] | None:
    """For `dangerouslySetInnerHTML={markup}` / `={createMarkup(x)}`: whether the object it
    names is safe, judged from the binding or helper defined in this file, and the expression.
    None when there is no JSX expression to read."""
    code = src.code
    if start >= len(code) or code[start] != "{":
        return None
    expression = src.text[start + 1 : src.close_of.get(start, len(code))]
    name = _PLAIN_NAME.fullmatch(expression)
    if name:
        binding = re.search(
            rf"(?<![\w$.])(?:const|let|var)\s+{re.escape(name.group(1))}\s*(?::[^=;]*)?=",
            code,
        )
        if binding is None:
            return False, expression
        value_start = binding.end()
        value_end = _statement_end(src, value_start)
        if _SAFE_HELPER.search(code[value_start:value_end]):
            return True, expression
        brace = code.find("{", value_start, value_end)
        inner = _html_value(src, brace) if brace >= 0 else None
        safe = inner is not None and _safe_html(src.text[inner[0] : inner[1]], src)
        return safe, expression
    called = _CALLED_NAME.match(expression)
    if called is None:
        return False, expression
    helper = called.group(1).rsplit(".", 1)[-1]
    definition = re.search(
        rf"(?<![\w$.])(?:function\s+{re.escape(helper)}\s*\(|(?:const|let|var)\s+{re.escape(helper)}\s*(?::[^=;]*)?=)",
        code,
    )
    if definition is None:
        return bool(_SAFE_HELPER.search(called.group(1))), expression
    body = code.find("{", definition.end())
    if body < 0:
        return False, expression
    if _SAFE_HELPER.search(code[body : src.close_of.get(body, len(code))]):
        return True, expression
    key = code.find("__html", body, src.close_of.get(body, len(code)))
    if key < 0:
        return False, expression
    outer = next(src.ancestors(key), None)
    inner = _html_value(src, outer) if outer is not None else None
    return inner is not None and _safe_html(src.text[inner[0] : inner[1]], src), expression


def check_dangerous_html(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """`dangerouslySetInnerHTML` fed a value that is not constant: unless the HTML is
    sanitized, any attacker-controlled part of it runs as script (XSS). String literals,
    `DOMPurify.sanitize(...)`/`sanitize(...)` results (inline or bound to a name first),
    `JSON.stringify` for JSON-LD, UPPER_CASE constants, escaping renderers (highlight.js,
    Prism, KaTeX) and static asset imports (`.svg`, `?raw`) are exempt. An object built
    elsewhere (`={markup}`, `={createMarkup(html)}`) is judged from its definition in the file;
    one that cannot be seen (a prop, an imported helper not named as a sanitizer) fires."""
    if not file.text or not _is_react_file(file) or is_test_path(file.path):
        return
    src = js_source(file.text)
    for match in _INNER_HTML.finditer(src.code):
        number = src.line(match.start())
        if not file.is_changed(number):
            continue
        value = _html_value(src, match.end())
        if value is not None:
            expression = src.text[value[0] : value[1]]
            safe = _safe_html(expression, src)
        else:
            judged = _indirect_html_safe(src, match.end())
            if judged is None:
                continue
            safe, expression = judged
        if not safe:
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
