"""The typescript rule pack: API-client typing, unchecked `fetch`, secrets behind public env
prefixes and leftover `console.log` in TypeScript/JavaScript.

There is no TypeScript parser here, so the checks read a *masked* copy of the text (`JsSource`):
comments and the contents of string and template literals are blanked (same length, same line
breaks; `${...}` expressions stay code), and brackets are matched once. Words inside comments and
strings can therefore never fire, and offsets in the masked code are offsets in the file.

The helpers (`js_source`, `JsSource`, `safe_html_expression`) are shared with the react and vue
packs.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice

from ...findings import Severity
from ..rule import FileUnderReview, Hit, ReviewContext, Rule, RulePack
from .python import is_script_path, is_test_path

_SUFFIXES = frozenset({".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts"})
_GENERATED = re.compile(r"(?:^|/)(?:node_modules|dist|build|vendor)/|\.min\.[cm]?js$")
# dotenv files, templates included (`.env`, `.env.local`, `.env.example`, `prod.env`): a public
# prefix on a secret's name there is the same leak as in code.
_DOTENV = re.compile(r"^\.env(?:\.[\w.-]+)?$|^[\w.-]+\.env$")


def is_dotenv_path(path: str) -> bool:
    """A dotenv file (not `.envrc`, and not code named like one, e.g. `.env.ts`)."""
    name = path.rsplit("/", 1)[-1]
    suffix = name[name.rfind(".") :].lower()
    return bool(_DOTENV.match(name)) and not name.startswith(".envrc") and suffix not in _SUFFIXES


# --- masking -----------------------------------------------------------------------------------

_NOT_NEWLINE = re.compile(r"[^\n]")
_INTERESTING = re.compile(r"//|/\*|['\"`/{}]")
_QUOTED = {"'": re.compile(r"'(?:[^'\\\n]|\\.)*'"), '"': re.compile(r'"(?:[^"\\\n]|\\.)*"')}
_TEMPLATE_PART = re.compile(r"(?:[^`\\$]|\\.|\$(?!\{))*", re.S)
_REGEX_LITERAL = re.compile(r"/(?![*/])(?:[^/\\\[\n]|\\.|\[(?:[^\]\\\n]|\\.)*\])+/[a-z]*")
_REGEX_AFTER_WORD = re.compile(
    r"(?:^|[^\w$])(?:return|typeof|case|do|else|in|of|new|delete|void|throw|yield|await)$"
)
_REGEX_AFTER_CHAR = frozenset("(,=:[!&|?;{+-*%~^")


def _blank(text: str) -> str:
    return _NOT_NEWLINE.sub(" ", text)


def mask_js(text: str) -> str:
    """`text` with comments and literal contents blanked; quotes and `${...}` code are kept."""
    out: list[str] = []
    pos = 0
    depths: list[int] = []  # open-brace counts of the `${` expressions we are inside
    n = len(text)
    while pos < n:
        match = _INTERESTING.search(text, pos)
        if match is None:
            out.append(text[pos:])
            break
        start, token = match.start(), match.group()
        out.append(text[pos:start])
        pos = start + len(token)
        if token == "//":
            end = text.find("\n", start)
            end = n if end < 0 else end
            out.append(_blank(text[start:end]))
            pos = end
        elif token == "/*":
            end = text.find("*/", pos)
            end = n if end < 0 else end + 2
            out.append(_blank(text[start:end]))
            pos = end
        elif token in _QUOTED:
            quoted = _QUOTED[token].match(text, start)
            if quoted is None:  # an apostrophe in JSX text, or a partial line: plain character
                out.append(token)
            else:
                out.append(token + _blank(quoted.group()[1:-1]) + token)
                pos = quoted.end()
        elif token == "`" or (token == "}" and depths and depths[-1] == 0):
            if token == "}":
                depths.pop()
            part = _TEMPLATE_PART.match(text, pos)
            end = part.end() if part else pos
            out.append(token + _blank(text[pos:end]))
            pos = end
            if text.startswith("${", pos):
                out.append("${")
                depths.append(0)
                pos += 2
            elif pos < n:
                out.append("`")
                pos += 1
        elif token == "{":
            if depths:
                depths[-1] += 1
            out.append(token)
        elif token == "}":
            if depths:
                depths[-1] -= 1
            out.append(token)
        else:  # "/": a regex literal or a division
            literal = _REGEX_LITERAL.match(text, start) if _starts_regex(out) else None
            if literal is None:
                out.append(token)
            else:
                out.append("/" + _blank(literal.group()[1:-1]) + "/")
                pos = literal.end()
    return "".join(out)


def _starts_regex(out: list[str]) -> bool:
    """Whether a `/` here begins a regex literal, judged from the code before it."""
    tail = "".join(out[-4:])[-40:].rstrip()
    if not tail:
        return True
    return tail[-1] in _REGEX_AFTER_CHAR or bool(_REGEX_AFTER_WORD.search(tail))


# --- the masked source -------------------------------------------------------------------------

_CLOSERS = {")": "(", "]": "[", "}": "{"}
_BRACKET = re.compile(r"[()\[\]{}]")
_CONTROL = re.compile(r"\b(if|for|while|switch|catch|with|else|try|finally|do)\s*$")
_RETURN_TYPE_TAIL = re.compile(r"\)\s*:\s*[^(){};=]*$")
_WORD_TAIL = re.compile(r"([A-Za-z_$][\w$]*)\s*(?:<[^()]*>)?\s*$")
_FUNCTION_TAIL = re.compile(r"\bfunction\s*\*?\s*([A-Za-z_$][\w$]*)?\s*(?:<[^()]*>)?\s*$")
_ASYNC_TAIL = re.compile(r"\basync\s*$")
_GENERIC_TAIL = re.compile(r"<[^()=;]*>\s*$")
_WRAPPER_TAIL = re.compile(
    r"(?:\b[\w$]+\.)?\b(?:memo|forwardRef|observer)\s*(?:<[^()]*>)?\s*\(\s*$"
)
_ASSIGNED_TAIL = re.compile(
    r"(?:\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=;]*)?|(\bexport\s+default))\s*=?\s*$"
)
_KEYWORDS = frozenset(
    "if for while switch catch with else try finally do return typeof await function new in of "
    "case throw yield void delete instanceof".split()
)


@dataclass(frozen=True)
class Func:
    """A function with a braced body: its name ('' when anonymous) and bracket positions.
    `params` is (open, close) of the parameter list, or the span of a lone arrow parameter."""

    name: str
    params: tuple[int, int]
    body: tuple[int, int]
    arrow: bool


@dataclass
class JsSource:
    """A file's text, its masked code, matched brackets and line offsets."""

    text: str
    code: str
    close_of: dict[int, int] = field(default_factory=dict)
    parent: dict[int, int | None] = field(default_factory=dict)
    opens: list[int] = field(default_factory=list)
    newlines: list[int] = field(default_factory=list)
    _kinds: dict[int, object | None] = field(default_factory=dict)
    # Facts other packs derive from this source once (react: a component's own `return`s).
    memo: dict[object, object] = field(default_factory=dict)
    _safe_names: frozenset[str] | None = None

    def __post_init__(self) -> None:
        stack: list[int] = []
        code = self.code
        for match in _BRACKET.finditer(code):
            pos, char = match.start(), match.group()
            if char in "([{":
                self.parent[pos] = stack[-1] if stack else None
                self.opens.append(pos)
                stack.append(pos)
            elif any(code[p] == _CLOSERS[char] for p in stack):
                while stack:
                    top = stack.pop()
                    self.close_of[top] = pos
                    if code[top] == _CLOSERS[char]:
                        break
        for top in stack:
            self.close_of[top] = len(code)
        self.newlines = [m.start() for m in re.finditer("\n", code)]

    def line(self, pos: int) -> int:
        """The 1-based line holding offset `pos`."""
        return bisect_right(self.newlines, pos - 1) + 1

    def ancestors(self, pos: int) -> Iterator[int]:
        """Opening brackets around `pos`, innermost first."""
        index = bisect_right(self.opens, pos - 1) - 1
        current = self.opens[index] if index >= 0 else None
        while current is not None and self.close_of[current] < pos:
            current = self.parent[current]
        while current is not None:
            yield current
            current = self.parent[current]

    def braces(self, pos: int) -> Iterator[int]:
        return (p for p in self.ancestors(pos) if self.code[p] == "{")

    def prev_char(self, pos: int) -> tuple[int, str]:
        """The last non-blank character before `pos` and its offset ((-1, '') at the start)."""
        stripped = self.code[:pos].rstrip()
        return (len(stripped) - 1, stripped[-1]) if stripped else (-1, "")

    def safe_html_names(self) -> frozenset[str]:
        """Names bound to a string literal or a sanitized value (see `safe_html_expression`)."""
        if self._safe_names is None:
            self._safe_names = frozenset(_safe_html_names(self))
        return self._safe_names

    def control(self, brace: int) -> str | None:
        """The keyword opening a block (`if`, `for`, `try`, `else`, ...), or None."""
        kind = self._kind(brace)
        return kind if isinstance(kind, str) else None

    def function(self, brace: int) -> Func | None:
        """The function whose body opens at `brace`, or None for other braces."""
        kind = self._kind(brace)
        return kind if isinstance(kind, Func) else None

    def functions(self, pos: int) -> Iterator[Func]:
        """Functions with braced bodies around `pos`, innermost first."""
        for brace in self.braces(pos):
            func = self.function(brace)
            if func is not None:
                yield func

    def _kind(self, brace: int) -> object | None:
        if brace not in self._kinds:
            self._kinds[brace] = self._classify(brace)
        return self._kinds[brace]

    def _classify(self, brace: int) -> object | None:
        code = self.code
        control = _CONTROL.search(code, max(0, brace - 40), brace)
        if control:
            return control.group(1)
        end, char = self.prev_char(brace)
        arrow = char == ">" and code[end - 1 : end] == "="
        if arrow:
            end, char = self.prev_char(end - 1)
        if char != ")":
            tail = _RETURN_TYPE_TAIL.search(code, max(0, end - 300), end + 1)
            if tail is not None:
                end, char = tail.start(), ")"
        if char == ")":
            open_pos = next((p for p in self.ancestors(end) if self.close_of[p] == end), None)
            if open_pos is None:
                return None
            head = code[max(0, open_pos - 200) : open_pos]
            keyword = None if arrow else _CONTROL.search(head)
            if keyword:
                return keyword.group(1)
            params = (open_pos, end)
        elif arrow and (char.isalnum() or char in "_$"):
            word = _WORD_TAIL.search(code, max(0, end - 100), end + 1)
            if word is None:
                return None
            params = (word.start(1), word.end(1))
            head = code[max(0, params[0] - 200) : params[0]]
        else:
            return None
        return Func(_name(head, arrow), params, (brace, self.close_of[brace]), arrow)


def _name(head: str, arrow: bool) -> str:
    """The name a function is bound to, read from the code before its parameter list."""
    head = _GENERIC_TAIL.sub("", head)
    declared = _FUNCTION_TAIL.search(head)
    if declared:
        if declared.group(1):
            return declared.group(1)
        head = head[: declared.start()]
    elif not arrow:
        word = _WORD_TAIL.search(head)
        return word.group(1) if word and word.group(1) not in _KEYWORDS else ""
    head = _ASYNC_TAIL.sub("", head)
    while wrapper := _WRAPPER_TAIL.search(head):
        head = head[: wrapper.start()]
    assigned = _ASSIGNED_TAIL.search(head)
    return (assigned.group(1) or "default") if assigned else ""


@lru_cache(maxsize=32)
def js_source(text: str) -> JsSource:
    """The masked, bracket-matched form of `text` (cached: several packs read the same file)."""
    return JsSource(text=text, code=mask_js(text))


# --- shared: is an HTML expression safe? --------------------------------------------------------

_SANITIZED = re.compile(r"(?i)sanitiz|purif|\bxss\s*\(|escape(?:html)?\s*\(")
_STRING_ONLY = re.compile(r"""\s*(?:'[^']*'|"[^"]*"|`[^`$]*`)\s*""", re.S)
_JSON_STRINGIFY = re.compile(r"^\s*JSON\.stringify\s*\(")
_TRANSLATION = re.compile(r"""\s*\$?t[ce]?\s*\(\s*(['"])[^'"]*\1\s*\)\s*""")
_IDENTIFIER = re.compile(r"\s*(?:this\.)?([A-Za-z_$][\w$]*)\s*")
_CONSTANT_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
_BINDING = re.compile(r"(?<![\w$.])(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=;]*)?=")
_METHOD = re.compile(
    r"(?<![\w$.])([A-Za-z_$][\w$]*)\s*(?:\([^()]*\)|:\s*(?:function\s*)?\([^()]*\)\s*=?>?)\s*\{"
)


def _statement_end(src: JsSource, pos: int) -> int:
    """Where the statement continuing at `pos` ends: a `;` or line break outside brackets."""
    code = src.code
    while pos < len(code) and code[pos] not in ";\n":
        pos = src.close_of.get(pos, pos) + 1 if code[pos] in "([{" else pos + 1
    return pos


def safe_html_expression(expr: str, src: JsSource) -> bool:
    """An HTML value that cannot carry attacker input: a string literal, a sanitizer call,
    `JSON.stringify(...)` (JSON-LD), a translation of a literal key, an UPPER_CASE constant, or a
    name the file binds to a string literal or a sanitized value (a variable, or a method or
    computed property whose body sanitizes)."""
    if (
        any(p.fullmatch(expr) for p in (_STRING_ONLY, _TRANSLATION))
        or _SANITIZED.search(expr)
        or _JSON_STRINGIFY.match(expr)
    ):
        return True
    name = _IDENTIFIER.fullmatch(expr)
    if name is None:
        return False
    if _CONSTANT_NAME.fullmatch(name.group(1)):
        return True
    return name.group(1) in src.safe_html_names()


def _safe_html_names(src: JsSource) -> Iterator[str]:
    for match in _BINDING.finditer(src.code):
        value = src.text[match.end() : _statement_end(src, match.end())]
        if _SANITIZED.search(value) or _STRING_ONLY.fullmatch(value.rstrip(" ;")):
            yield match.group(1)
    for match in _METHOD.finditer(src.code):
        brace = match.end() - 1
        if _SANITIZED.search(src.text[brace : src.close_of.get(brace, brace)]):
            yield match.group(1)


# --- the pack's checks -------------------------------------------------------------------------

_API_PATH = re.compile(
    r"(?:^|[/._-])(?:api|apis|client|clients|service|services|sdk|http)(?:$|[/._-])"
)
_API_CAMEL = re.compile(r"(?:Api|API|Client|Service|Sdk|SDK|Http|HTTP)(?:[A-Z/._-]|$)")
_HTTP_CALLS = re.compile(r"(?<![\w$.])(?:fetch\s*\(|axios\b|ky\s*\.|ofetch\s*\()")
_EXPORT = re.compile(
    r"(?<![\w$.])export\s+(?:default\s+)?(?:declare\s+)?"
    r"(?:(?P<class>(?:abstract\s+)?class)|(?P<interface>interface)|(?P<type>type)"
    r"|(?P<function>(?:async\s+)?function)|(?P<const>const|let))\b"
)
_ANY = re.compile(r"(?<![\w$.])any(?![\w$])(?!\s*\??\s*[:(])")
_ANY_OPT_OUT = "no-explicit-any"
_PRIVATE_MEMBER = re.compile(r"^\s*(?:private|protected|#)")
_CONST_HEAD = re.compile(
    r"\s*[A-Za-z_$][\w$]*\s*(:[^=;]*)?=\s*(?:async\s*)?(?:function\b[^(]*)?(?:<[^()=;]*>\s*)?(\()?"
)
_TYPE_CONTINUES = re.compile(r"[=|&<,:(?]$")


def _is_api_client(file: FileUnderReview, src: JsSource) -> bool:
    path = file.path
    return bool(
        _API_PATH.search(path.lower()) or _API_CAMEL.search(path) or _HTTP_CALLS.search(src.code)
    )


def _exported_spans(src: JsSource) -> Iterator[tuple[int, int, bool]]:
    """(start, end, is_class_body) of each exported declaration's *type surface*: interface and
    class bodies, type aliases, and function signatures (parameters and return type, not bodies)."""
    code = src.code
    for match in _EXPORT.finditer(code):
        kind = match.lastgroup
        if kind in ("class", "interface"):
            brace = code.find("{", match.end())
            if brace >= 0:
                yield match.start(), src.close_of.get(brace, len(code)), kind == "class"
        elif kind == "type":
            yield match.start(), _type_end(src, match.end()), False
        elif kind == "function":
            paren = code.find("(", match.end())
            if paren >= 0:
                close = src.close_of.get(paren, len(code))
                body = code.find("{", close)
                yield match.start(), body if body >= 0 else len(code), False
        else:
            head = _CONST_HEAD.match(code, match.end())
            if head is None:
                continue
            end = head.end()
            if head.group(2):
                close = src.close_of.get(end - 1, len(code))
                arrow = code.find("=>", close)
                brace = code.find("{", close)
                end = (
                    arrow
                    if arrow >= 0 and (brace < 0 or arrow < brace)
                    else brace
                    if brace >= 0
                    else close
                )
            elif head.group(1) is None:
                continue
            yield match.start(), end, False


def _type_end(src: JsSource, start: int) -> int:
    """Where a `type X = ...` alias ends: a `;` outside brackets, or a line break after a
    complete type when the next line does not continue it."""
    code = src.code
    pos = start
    while pos < len(code):
        char = code[pos]
        if char in "([{":
            pos = src.close_of.get(pos, len(code)) + 1
            continue
        if char == ";":
            return pos
        if char == "\n":
            done = code[start:pos].rstrip()
            rest = code[pos:].lstrip()
            if (
                done
                and not _TYPE_CONTINUES.search(done)
                and not rest.startswith(("|", "&", "=", "?", ":", "."))
            ):
                return pos
        pos += 1
    return pos


def _class_members(src: JsSource, start: int, end: int) -> str:
    """A class's text with method bodies and nested braces blanked, leaving member signatures."""
    code = src.code
    brace = code.find("{", start)
    parts = [_blank(code[start : brace + 1])]
    pos = brace + 1
    for inner in islice(src.opens, bisect_right(src.opens, brace), None):
        if inner >= end:
            break
        if inner < pos or code[inner] != "{" or src.parent.get(inner) != brace:
            continue
        parts.append(code[pos : inner + 1])
        close = src.close_of[inner]
        parts.append(_blank(code[inner + 1 : close]))
        pos = close
    parts.append(code[pos:end])
    return "".join(parts)


_EXPORTED_TYPE_NAME = re.compile(
    r"(?<![\w$.])export\s+(?:default\s+)?(?:declare\s+)?(?:interface|type)\s+([A-Za-z_$][\w$]*)"
)
_API_TYPE_NAME = re.compile(
    r"(?:^|[a-z0-9])(?:Api|API)(?:[A-Z]|$)|(?:Response|Request|Payload|Dto|DTO)(?:Body|Data)?$"
)


def _api_type_name(src: JsSource, start: int) -> bool:
    """Whether the exported declaration at `start` is an interface or type alias named as an
    HTTP wire type."""
    named = _EXPORTED_TYPE_NAME.match(src.code, start)
    return bool(named and _API_TYPE_NAME.search(named.group(1)))


def check_any_in_api_types(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """`any` in the exported type surface of an API client (interfaces, type aliases, exported
    function and public method signatures), or of an exported type named as a wire type
    (`ApiResponse`, `CreateUserRequest`, `WebhookPayload`, `UserDto`) wherever it lives. Comments
    and strings are masked, words like `company` and `unknown` do not match, non-exported
    types and function bodies are not read, and a line opted out with
    `eslint-disable(-next)-line @typescript-eslint/no-explicit-any` is respected."""
    if not file.text or is_test_path(file.path) or is_dotenv_path(file.path):
        return
    src = js_source(file.text)
    api_client = _is_api_client(file, src)
    seen: set[int] = set()
    for start, end, is_class in _exported_spans(src):
        if not api_client and not _api_type_name(src, start):
            continue
        span = _class_members(src, start, end) if is_class else src.code[start:end]
        for match in _ANY.finditer(span):
            pos = start + match.start()
            line_start = span.rfind("\n", 0, match.start()) + 1
            if is_class and _PRIVATE_MEMBER.match(span[line_start:]):
                continue
            number = src.line(pos)
            if number not in seen and not _any_opted_out(file, number):
                seen.add(number)
                yield Hit(number)


def _any_opted_out(file: FileUnderReview, number: int) -> bool:
    """A deliberate `eslint-disable(-next)-line ... no-explicit-any` on or above the line."""
    return _ANY_OPT_OUT in file.line(number) or (
        "eslint-disable-next-line" in file.line(number - 1)
        and _ANY_OPT_OUT in file.line(number - 1)
    )


_FETCH = re.compile(r"(?<![\w$.])(?:(?:window|globalThis|self)\s*\.\s*)?fetch\s*\(")
_BODY_READ = r"\s*\??\.\s*(?:json|text|blob|arrayBuffer|formData)\s*\("
_BODY_READ_RE = re.compile(_BODY_READ)
_CHECKED = re.compile(r"\.\s*(?:ok|status|statusText)\b|\.\s*catch\s*\(")
_CHAIN_LINK = re.compile(r"\s*\??\.\s*([A-Za-z_$][\w$]*)\s*\(")
_ASSIGN_TARGET = re.compile(r"(?<![\w$.])([A-Za-z_$][\w$]*)\s*(?::[^=;{}()]*)?=\s*(?:await\s*)?$")
_AWAIT_TAIL = re.compile(r"\bawait\s*$")


def _fetch_use(src: JsSource, match: re.Match[str]) -> str | None:
    """How the response of this `fetch(` is read without a check: a description, or None when it
    is not read here (returned, passed on, handled in `.then(handler)`)."""
    code = src.code
    open_pos = match.end() - 1
    close = src.close_of.get(open_pos, len(code))
    pos = close + 1
    links = []
    while True:
        link = _CHAIN_LINK.match(code, pos)
        if link is None:
            break
        paren = link.end() - 1
        links.append((link.group(1), code[paren : src.close_of.get(paren, len(code)) + 1]))
        pos = src.close_of.get(paren, len(code)) + 1
    if links:
        names = [name for name, _ in links]
        if "catch" in names or names[0] != "then" or _CHECKED.search(links[0][1]):
            return None
        return "fetch(...).then(...)" if _BODY_READ_RE.search(links[0][1]) else None
    head = code[max(0, match.start() - 200) : match.start()]
    awaited = _AWAIT_TAIL.search(head)
    if awaited:
        wrap = head[: awaited.start()].rstrip()
        if wrap.endswith("("):
            wrap_open = match.start() - len(head) + len(wrap) - 1
            after = src.close_of.get(wrap_open, len(code)) + 1
            if re.match(_BODY_READ, code[after:]):
                return "(await fetch(...))"
    target = _ASSIGN_TARGET.search(head)
    if target is None:
        return None
    name = re.escape(target.group(1))
    scope_end = _scope(src, match.start())[1]
    later = code[close:scope_end]
    if re.search(rf"(?<![\w$.]){name}{_BODY_READ}", later) and not re.search(
        rf"(?<![\w$.]){name}\s*\??\.\s*(?:ok|status|statusText|then)\b|\(\s*{name}\s*[,)]", later
    ):
        return target.group(1)
    return None


def _scope(src: JsSource, pos: int) -> tuple[int, int]:
    """The body of the function around `pos`; at top level, the statement's lines (a concise
    arrow such as `const load = (u) => fetch(u).then(...)` is its own scope)."""
    func = next(src.functions(pos), None)
    if func:
        return func.body
    outer = list(src.ancestors(pos))
    end = src.close_of[outer[-1]] if outer else pos
    line_end = src.code.find("\n", end)
    return src.code.rfind("\n", 0, pos) + 1, len(src.code) if line_end < 0 else line_end


def check_unchecked_fetch(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """A `fetch(...)` whose body is read (`.json()`, `.text()`...) with no `.ok`/`.status` check,
    no `.catch(` and no enclosing `try`: a 404 or 500 is then parsed as if it were data. Responses
    that are returned, passed to a helper, or checked anywhere in the function do not fire."""
    if not file.text or is_test_path(file.path) or is_dotenv_path(file.path):
        return
    src = js_source(file.text)
    for match in _FETCH.finditer(src.code):
        number = src.line(match.start())
        if not file.is_changed(number):
            continue
        close = src.close_of.get(match.end() - 1, len(src.code))
        if src.code[close + 1 : close + 40].lstrip().startswith(("{", ":")):
            continue  # a method named fetch being defined
        use = _fetch_use(src, match)
        if use is None:
            continue
        start, end = _scope(src, match.start())
        if _CHECKED.search(src.code[start:end]) or any(
            src.control(b) == "try" for b in src.braces(match.start())
        ):
            continue
        subject = "the response" if use.startswith(("fetch", "(")) else f"`{use}`"
        yield Hit(
            number,
            rationale=f"The body of {subject} is read without checking `ok`/`status`: an HTTP error page or error JSON is treated as data.",
        )


_PUBLIC_ENV = re.compile(
    r"(?<![\w$])(NEXT_PUBLIC_|VITE_|REACT_APP_|EXPO_PUBLIC_|NUXT_PUBLIC_|GATSBY_|VUE_APP_|PUBLIC_)([A-Z0-9_]+)"
)
_ENV_INDEX = re.compile(r"""env\s*\[\s*(['"])([A-Z0-9_]+)\1\s*\]""")
_SECRET_WORD = re.compile(
    r"(?:^|_)(?:SECRET|PRIVATE|PASSWORD|PASSWD|PASS|SERVICE_ROLE|SERVICE_KEY|ADMIN_KEY|MASTER_KEY|SIGNING_KEY"
    r"|ENCRYPTION_KEY|CREDENTIALS?|DATABASE_URL|DB_URL|POSTGRES_URL|MONGODB_URI|MONGO_URI|REDIS_URL|TOKEN)(?:_|$)"
)
_SERVER_SERVICE_KEY = re.compile(
    r"(?:^|_)(?:OPENAI|ANTHROPIC|CLAUDE|COHERE|MISTRAL|GROQ|REPLICATE|HUGGINGFACE|HF|SENDGRID|RESEND|MAILGUN"
    r"|POSTMARK|TWILIO|OPENROUTER|PINECONE|ELEVENLABS|DEEPSEEK|PERPLEXITY|GEMINI|PLAID|AIRTABLE|NOTION|BREVO)"
    r"(?:_[A-Z0-9]+)*_(?:API_)?KEY(?:_|$)"
)
_PUBLIC_BY_DESIGN = re.compile(r"PUBLISHABLE|ANON|MAPBOX|SITE_KEY|PUBLIC_KEY|PUBLIC_TOKEN|CSRF")
_SVELTE_PUBLIC_ENV = re.compile(r"\$env/(?:static|dynamic)/public")
_DOTENV_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Z0-9_]+)\s*=")


def _secret_public_name(prefix: str, rest: str) -> bool:
    if _PUBLIC_BY_DESIGN.search(rest):
        return False
    return bool(_SECRET_WORD.search(rest) or _SERVER_SERVICE_KEY.search(rest))


def check_secret_in_public_env(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """A secret-looking variable behind a public env prefix (`NEXT_PUBLIC_`, `VITE_`,
    `REACT_APP_`, `EXPO_PUBLIC_`, `PUBLIC_`...): bundlers inline those into the client bundle.
    Keys that are public by design (Supabase anon, Stripe publishable, Mapbox, reCAPTCHA site
    keys) and names without a secret word (`VITE_API_URL`) do not fire; a bare `PUBLIC_` only
    counts after `env.` or in a file reading SvelteKit's public env. In dotenv files
    (`.env.local`, `.env.example`...) the assigned names are read, not comments."""
    if not file.text:
        return
    found: dict[int, str] = {}
    if is_dotenv_path(file.path):
        for number, line in enumerate(file.lines, 1):
            assignment = _DOTENV_ASSIGNMENT.match(line)
            public = assignment and _PUBLIC_ENV.fullmatch(assignment.group(1))
            if public and _secret_public_name(*public.groups()):
                found[number] = public.group()
        yield from _secret_hits(found)
        return
    src = js_source(file.text)
    svelte = bool(_SVELTE_PUBLIC_ENV.search(file.text))
    for match in _PUBLIC_ENV.finditer(src.code):
        prefix, rest = match.groups()
        if prefix == "PUBLIC_" and not (
            svelte or src.code[: match.start()].rstrip().endswith("env.")
        ):
            continue
        if _secret_public_name(prefix, rest):
            found.setdefault(src.line(match.start()), match.group())
    for match in _ENV_INDEX.finditer(file.text):
        public = _PUBLIC_ENV.fullmatch(match.group(2))
        if public and src.code[match.start()] == "e" and _secret_public_name(*public.groups()):
            found.setdefault(src.line(match.start()), match.group(2))
    yield from _secret_hits(found)


def _secret_hits(found: dict[int, str]) -> Iterator[Hit]:
    for number, name in sorted(found.items()):
        yield Hit(
            number,
            rationale=f"`{name}` is exposed to the browser: variables with a public prefix are inlined into the client bundle, so this secret ships to every visitor.",
        )


_CONSOLE = re.compile(r"(?<![\w$.])console\s*\.\s*(log|debug|table|dir|trace)\s*\(")
_CONFIG_NAME = re.compile(
    r"(?:\.config|rc)\.[cm]?[jt]s$|^(?:gulpfile|gruntfile|jakefile)\.[cm]?[jt]s$", re.I
)
_NO_CONSOLE_FOLDERS = frozenset(
    {
        "bin",
        "cli",
        "scripts",
        "script",
        "tools",
        "e2e",
        "cypress",
        "playwright",
        "__mocks__",
        "stories",
        ".storybook",
    }
)
_LOGGER_NAME = re.compile(r"^(?:log|logs|logger|logging|debug)\.", re.I)
_STORY_NAME = re.compile(r"\.stories\.[cm]?[jt]sx?$")
_DEV_GUARD = re.compile(r"NODE_ENV|\bDEBUG\b|\bdebug\b|isDev|__DEV__|\.DEV\b|verbose")
_LISTEN = re.compile(r"(?i)listen")
# A start-up banner printed by a server or worker entry point, read from the raw line.
_STARTUP_MESSAGE = re.compile(
    r"(?i)listen|\b(?:running|started|ready|serving|up)\s+(?:on|at)\s+(?:port\b|https?:|localhost|:)"
    r"|\bserver\s+(?:is\s+)?(?:up|running|started|ready)\b"
)
# The condition of a braceless guard on the same line (`if (DEBUG) console.log(...)`,
# `isDev && console.log(...)`) or a braceless `if (...)` alone on the line above.
_INLINE_GUARD = re.compile(r"^\s*(?:(?:else\s+)?if\s*\(.*\)\s*|.*&&\s*)$")
_GUARD_LINE = re.compile(r"^\s*(?:\}\s*)?(?:else\s+)?if\s*\(.*\)\s*$")


def _console_allowed(file: FileUnderReview) -> bool:
    *folders, name = file.path.split("/")
    return (
        is_test_path(file.path)
        or is_dotenv_path(file.path)
        or is_script_path(file.path)
        or bool(_NO_CONSOLE_FOLDERS.intersection(folders))
        or bool(_CONFIG_NAME.search(name) or _LOGGER_NAME.match(name) or _STORY_NAME.search(name))
        or (file.text or "").startswith("#!")
    )


def check_console_log(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """`console.log`/`debug`/`table`/`dir`/`trace` added to application code.
    `console.error`/`warn` are deliberate; tests, scripts, CLIs (a shebang or a `bin/` folder),
    config files, loggers, stories, server start-up messages (`listen`, "running on ...") and
    calls under a dev/debug guard (an `if` block, a braceless `if`, or `isDev && ...`) are
    exempt."""
    if not file.text or _console_allowed(file):
        return
    src = js_source(file.text)
    for match in _CONSOLE.finditer(src.code):
        number = src.line(match.start())
        if not file.is_changed(number) or _STARTUP_MESSAGE.search(file.line(number)):
            continue
        line_start = src.code.rfind("\n", 0, match.start()) + 1
        before = src.code[line_start : match.start()]
        above = src.code[src.code.rfind("\n", 0, max(0, line_start - 1)) + 1 : line_start]
        guarded = bool(
            (_INLINE_GUARD.match(before) and _DEV_GUARD.search(before))
            or (not before.strip() and _GUARD_LINE.match(above) and _DEV_GUARD.search(above))
        )
        for brace in src.braces(match.start()):
            if src.control(brace) == "if":
                head = src.code[max(0, brace - 200) : brace]
                condition = head[head.rfind("if") :]
                guarded = guarded or bool(_DEV_GUARD.search(condition))
            func = src.function(brace)
            if func and _LISTEN.search(src.code[max(0, func.params[0] - 60) : func.params[0]]):
                guarded = True
        if not guarded:
            yield Hit(
                number,
                rationale=f"`console.{match.group(1)}` left in application code: debug output leaks into users' consoles and production logs.",
            )


def _matches(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    return (suffix in _SUFFIXES or is_dotenv_path(path)) and not _GENERATED.search(path)


PACK = RulePack(
    name="typescript",
    matches=_matches,
    checks=(
        (
            Rule(
                id="typescript.any-in-api-types",
                category="any-in-api-types",
                severity=Severity.MEDIUM,
                rationale="`any` in an exported API-client type switches off type checking at the boundary where server data enters the app, so shape changes surface as runtime errors.",
                suggested_fix="Declare the response/request shape (an interface or a zod schema with `z.infer`), or use `unknown` and narrow it where it is read.",
            ),
            check_any_in_api_types,
        ),
        (
            Rule(
                id="typescript.unchecked-fetch",
                category="unchecked-http-response",
                severity=Severity.MEDIUM,
                rationale="`fetch` only rejects on network failure: a 4xx/5xx response is read as if it were data unless `res.ok` or `res.status` is checked.",
                suggested_fix="Check the response before reading it: `if (!res.ok) throw new Error(`HTTP ${res.status}`)`, or wrap the call in try/catch and handle the failure.",
            ),
            check_unchecked_fetch,
        ),
        (
            Rule(
                id="typescript.secret-in-public-env",
                category="secret-in-client-bundle",
                severity=Severity.HIGH,
                rationale="Variables with a public prefix (NEXT_PUBLIC_, VITE_, REACT_APP_, EXPO_PUBLIC_, PUBLIC_) are inlined into the client bundle, so a secret stored there is published to every visitor.",
                suggested_fix="Drop the public prefix and read the secret only in server code (API route, server action, edge function); rotate the key if it was ever deployed.",
            ),
            check_secret_in_public_env,
        ),
        (
            Rule(
                id="typescript.console-log-left-in",
                category="debug-print",
                severity=Severity.LOW,
                rationale="`console.log` debugging left in application code clutters users' consoles and production logs and can leak data.",
                suggested_fix="Remove the call, or use the project's logger (or `console.error`/`console.warn` for real diagnostics).",
            ),
            check_console_log,
        ),
    ),
)
