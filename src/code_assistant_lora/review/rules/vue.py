"""The vue rule pack: `v-html` on dynamic data and props mutated by the child component.

A single-file component is split into its `<template>` and `<script>` blocks without moving any
offset: the script is read as masked JavaScript (see the typescript pack) over a copy of the file
in which everything else is blanked, and the template is read with HTML comments blanked. Declared
props come from `defineProps(...)` (runtime object or array, or a type literal / named interface)
and the Options API `props:` option (and names destructured from `defineProps`).

Plain JS/TS files that import Vue (render functions, `defineComponent` in `.ts`/`.tsx`) are read
as one script with no template.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache

from ...findings import Severity
from ..rule import FileUnderReview, Hit, ReviewContext, Rule, RulePack
from .typescript import JsSource, js_source, safe_html_expression

_JS_SUFFIXES = (".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs", ".mts", ".cts")
_VUE_IMPORT = re.compile(
    r"""(?:\bfrom\s*|\brequire\s*\(\s*|\bimport\s*)['"](?:vue|vue-demi|@vue/[\w-]+)['"]"""
)
_NOT_NEWLINE = re.compile(r"[^\n]")
_SCRIPT = re.compile(r"(<script\b[^>]*>)(.*?)</script\s*>", re.S | re.I)
_TEMPLATE_OPEN = re.compile(r"<template\b[^>]*>", re.I)
_TEMPLATE_CLOSE = "</template>"
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_ATTRIBUTE = r"""\s*=\s*(?:"([^"]*)"|'([^']*)')"""
_V_HTML = re.compile(r"(?<![\w:@-])(?:v-html|v-bind:innerHTML|:innerHTML|:inner-html)" + _ATTRIBUTE)
_V_MODEL = re.compile(r"(?<![\w:@-])v-model(?::[\w-]+)?(?:\.[\w-]+)*" + _ATTRIBUTE)
_HANDLER = re.compile(r"(?<![\w:@-])(?:@|v-on:)[\w.:\[\]-]+" + _ATTRIBUTE)
_SCOPE_ALIASES = re.compile(
    r"""(?<![\w:@-])(?:v-for|v-slot(?::[\w-]+)?|#[\w-]+|slot-scope)\s*=\s*(?:"([^"]*)"|'([^']*)')"""
)
_FOR_ALIASES = re.compile(r"^\s*\(?([^()]*?)\)?\s+(?:in|of)\s")
_NAME = re.compile(r"[A-Za-z_$][\w$]*")
_ROOT = re.compile(r"\s*([A-Za-z_$][\w$]*)((?:\s*\??\.\s*[A-Za-z_$][\w$]*|\s*\[[^\]]*\])*)\s*$")

_DEFINE_PROPS = re.compile(r"(?<![\w$.])defineProps\s*(<\s*)?")
_OPTIONS_PROPS = re.compile(r"(?<![\w$.])props\s*:\s*(?=[\[{])")
_PROPS_VARIABLE = re.compile(
    r"(?<![\w$.])(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=;]*)?=\s*(?:withDefaults\s*\(\s*)?defineProps\b|\bsetup\s*\(\s*([A-Za-z_$][\w$]*)"
)
_TYPE_KEY = re.compile(r"""^\s*(?:readonly\s+)?['"]?([A-Za-z_$][\w$]*)['"]?\s*\??\s*[:(]""")
_OBJECT_KEY = re.compile(r"""^\s*['"]?([A-Za-z_$][\w$]*)['"]?\s*(?::|\(|$)""")
_ARRAY_ITEM = re.compile(r"""['"]([A-Za-z_$][\w$]*)['"]""")
_DESTRUCTURE = re.compile(r"(?<![\w$.])(?:const|let|var)\s*\{")
_DEFINE_PROPS_AFTER = re.compile(r"\s*(?::[^=;]*)?=\s*(?:withDefaults\s*\(\s*)?defineProps\b")
_MUTATION = (
    r"((?:\s*\??\.\s*[A-Za-z_$][\w$]*|\s*\[[^\]\n]*\])*)\s*"
    r"(?:(?:[-+*/%]|\*\*|\|\||&&|\?\?)?=(?![=>])|\+\+|--|\.\s*(?:push|pop|shift|unshift|splice|sort|reverse|fill)\s*\()"
)


@dataclass(frozen=True)
class VueSource:
    """A component: its script as masked JS, its template text (both at file offsets), the
    declared prop names and the variables holding the props object."""

    script: JsSource
    template: str
    props: frozenset[str]
    props_objects: frozenset[str]
    destructured: frozenset[str] = frozenset()  # `const { a, b } = defineProps(...)` (Vue 3.5)


def _blank(text: str) -> str:
    return _NOT_NEWLINE.sub(" ", text)


def _members(src: JsSource, open_pos: int) -> Iterator[str]:
    """Keys of the object/type literal (or string items of the array) opening at `open_pos`."""
    code, text = src.code, src.text
    close = src.close_of.get(open_pos, len(code))
    if code[open_pos] == "[":
        yield from _ARRAY_ITEM.findall(text[open_pos:close])
        return
    start = pos = open_pos + 1
    while pos <= close:
        char = code[pos] if pos < close else ","
        if char in "([{":
            pos = src.close_of.get(pos, close)
        elif char in ",;\n":
            key = _TYPE_KEY.match(text[start:pos]) or _OBJECT_KEY.match(text[start:pos])
            if key:
                yield key.group(1)
            start = pos + 1
        pos += 1


def _type_literal(src: JsSource, pos: int) -> int | None:
    """The `{` of the type argument of `defineProps<...>` at `pos`: inline, or the body of the
    named interface/type alias."""
    code = src.code
    if code[pos] == "{":
        return pos
    name = _NAME.match(code, pos)
    if name is None:
        return None
    declared = re.search(
        rf"\b(?:interface\s+{name.group()}\b[^{{]*|type\s+{name.group()}\s*=\s*)\{{", code
    )
    return declared.end() - 1 if declared else None


def _declared_props(src: JsSource) -> set[str]:
    code = src.code
    props: set[str] = set()
    for match in _DEFINE_PROPS.finditer(code):
        if match.group(1):
            brace = _type_literal(src, match.end())
        elif code.startswith("(", match.end()):
            rest = code[match.end() + 1 :].lstrip()
            brace = len(code) - len(rest) if rest[:1] in ("[", "{") else None
        else:
            brace = None
        if brace is not None:
            props.update(_members(src, brace))
    for match in _OPTIONS_PROPS.finditer(code):
        props.update(_members(src, match.end()))
    return props


def _split_top_level(src: JsSource, start: int, end: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each comma-separated part of `code[start:end]`, brackets skipped."""
    code = src.code
    pos = part = start
    while pos < end:
        char = code[pos]
        if char in "([{":
            pos = src.close_of.get(pos, end)
        elif char == ",":
            yield part, pos
            part = pos + 1
        pos += 1
    if code[part:end].strip():
        yield part, end


def _destructured_props(src: JsSource) -> tuple[set[str], set[str]]:
    """Names bound by `const { a, b: c = 1, ...rest } = defineProps(...)`: (props, rest objects)."""
    names: set[str] = set()
    rests: set[str] = set()
    code = src.code
    for match in _DESTRUCTURE.finditer(code):
        brace = match.end() - 1
        close = src.close_of.get(brace, len(code))
        if not _DEFINE_PROPS_AFTER.match(code, close + 1):
            continue
        for start, end in _split_top_level(src, brace + 1, close):
            part = code[start:end].strip()
            if part.startswith("..."):
                rests.update(_NAME.findall(part[3:])[:1])
                continue
            target = part.split("=", 1)[0]
            target = target.split(":", 1)[1] if ":" in target else target
            found = _NAME.search(target)
            if found:
                names.add(found.group())
    return names, rests


def _script_only(text: str) -> VueSource:
    """A plain JS/TS file that uses Vue: all script, no template."""
    script = js_source(text)
    objects = {m.group(1) or m.group(2) for m in _PROPS_VARIABLE.finditer(script.code)}
    destructured, rests = _destructured_props(script)
    return VueSource(
        script,
        _blank(text),
        frozenset(_declared_props(script)),
        frozenset(objects | rests),
        frozenset(destructured),
    )


@lru_cache(maxsize=16)
def vue_source(text: str, sfc: bool = True) -> VueSource:
    if not sfc:
        return _script_only(text)
    parts: list[str] = []
    last = 0
    for match in _SCRIPT.finditer(text):
        parts.append(_blank(text[last : match.start(2)]))
        parts.append(match.group(2))
        last = match.end(2)
    parts.append(_blank(text[last:]))
    script = js_source("".join(parts))
    template = _blank(text)
    opening = _TEMPLATE_OPEN.search(text)
    closing = text.rfind(_TEMPLATE_CLOSE)
    if opening and closing > opening.end():
        inner = _HTML_COMMENT.sub(lambda m: _blank(m.group()), text[opening.end() : closing])
        template = template[: opening.end()] + inner + template[closing:]
    objects = {m.group(1) or m.group(2) for m in _PROPS_VARIABLE.finditer(script.code)}
    destructured, rests = _destructured_props(script)
    return VueSource(
        script,
        template,
        frozenset(_declared_props(script)),
        frozenset(objects | rests),
        frozenset(destructured),
    )


def component_source(file: FileUnderReview) -> VueSource | None:
    """The component in `file`: a `.vue` single-file component, or a JS/TS file importing Vue."""
    if not file.text or "\x00" in file.text:
        return None
    if file.path.lower().endswith(".vue"):
        return vue_source(file.text)
    if file.path.lower().endswith(_JS_SUFFIXES) and _VUE_IMPORT.search(file.text):
        return vue_source(file.text, sfc=False)
    return None


def _value(match: re.Match[str]) -> tuple[int, str]:
    group = 1 if match.group(1) is not None else 2
    return match.start(group), match.group(group)


# --- is an HTML value safe? ----------------------------------------------------------------------

_SANITIZED = re.compile(r"(?i)sanitiz|purif|\bxss\s*\(|escape(?:html)?\s*\(")
_STRING_LITERAL = re.compile(r"""\s*(?:'[^'\n]*'|"[^"\n]*"|`[^`$]*`)\s*""")
_UPPER_CASE = re.compile(r"[A-Z][A-Z0-9_]*")
_THIS = re.compile(r"^\s*this\s*\.\s*")
_RAW_IMPORT = re.compile(
    r"""\bimport\s+([A-Za-z_$][\w$]*)\s+from\s+['"][^'"\n]*(?:\?raw\b|raw-loader!)[^'"\n]*['"]"""
)
_IMPORT = re.compile(r"""\bimport\s+(?:type\s+)?([\w$\s{},*]+?)\s+from\s+(['"])([^'"\n]+)\2""")
_CALLEE = re.compile(
    r"(?<![\w$.])((?:[A-Za-z_$][\w$]*\s*\??\.\s*)*[A-Za-z_$][\w$]*)\s*(?:<[^()<>]*>\s*)?\("
)
_WRAPPERS = frozenset(
    "computed ref shallowRef readonly unref toValue markRaw String function return await async "
    "if for while switch catch".split()
)
_RETURN = re.compile(r"(?<![\w$.])return\b")
_ANY_BINDING = re.compile(r"(?<![\w$.])(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=;]*)?=")
# `innerHTML: string | null` in a type, `innerHTML: String` or `innerHTML: { type: String }` in a
# props declaration: not a value
_NOT_A_VALUE = re.compile(
    r"(?:string|number|boolean|null|undefined|unknown|any|never|String|Number|Boolean|Object|"
    r"Array)\b(?!\s*[.(\[])|[{\[]"
)


def _statement_end(src: JsSource, pos: int) -> int:
    code = src.code
    while pos < len(code) and code[pos] not in ";\n":
        pos = src.close_of.get(pos, pos) + 1 if code[pos] in "([{" else pos + 1
    return pos


def _expression_end(src: JsSource, pos: int) -> int:
    """Where an expression starting at `pos` ends: a `,`, `;`, line break or closing bracket
    outside brackets."""
    code = src.code
    while pos < len(code) and code[pos] not in ",;\n)]}":
        pos = src.close_of.get(pos, pos) + 1 if code[pos] in "([{" else pos + 1
    return pos


def _sanitizing_functions(src: JsSource) -> set[str]:
    """Functions (declared, arrow, methods, computed getters) whose body sanitizes, and names
    bound to a sanitized value or a string literal."""
    names = set(src.safe_html_names())
    for brace in src.opens:
        if src.code[brace] != "{":
            continue
        func = src.function(brace)
        if func is not None and func.name and _SANITIZED.search(src.text[brace : func.body[1]]):
            names.add(func.name)
    return names


@lru_cache(maxsize=64)
def _module_helpers(text: str) -> frozenset[str]:
    """Sanitizing helpers a JS/TS module defines (`default` for a sanitizing default export)."""
    src = js_source(text)
    names = _sanitizing_functions(src)
    default = re.search(
        r"\bexport\s+default\s+(?:async\s+)?(?:function\s*\*?\s*)?([A-Za-z_$][\w$]*)", src.code
    )
    if default and default.group(1) in names:
        names.add("default")
    return frozenset(names)


def _module_files(spec: str, context: ReviewContext) -> Iterator[FileUnderReview]:
    """Changed JS/TS files an import specifier may refer to (matched by file or folder name)."""
    segments = [part for part in spec.split("?", 1)[0].split("/") if part not in ("", ".", "..")]
    if not segments:
        return
    wanted = segments[-1].rsplit(".", 1)[0] if "." in segments[-1] else segments[-1]
    for other in context.files:
        if other.text is None or not other.path.endswith(_JS_SUFFIXES):
            continue
        *folders, name = other.path.split("/")
        stem = name.split(".", 1)[0]
        if stem == wanted or (stem == "index" and folders and folders[-1] == wanted):
            yield other


def _imported_helpers(src: JsSource, context: ReviewContext) -> set[str]:
    """Local names imported from a module of this change that defines them as sanitizers."""
    names: set[str] = set()
    for match in _IMPORT.finditer(src.text):
        clause, spec = match.group(1), match.group(3)
        bindings: list[tuple[str, str]] = []
        head, _, rest = clause.partition("{")
        default = _NAME.match(head.strip().rstrip(","))
        if default and "*" not in head:
            bindings.append(("default", default.group()))
        for item in rest.split("}", 1)[0].split(","):
            words = _NAME.findall(item)
            if len(words) >= 3 and words[1] == "as":
                bindings.append((words[0], words[2]))
            elif words and words[0] != "type":
                bindings.append((words[0], words[0]))
            elif len(words) >= 2:
                bindings.append((words[1], words[-1]))
        if not bindings:
            continue
        helpers: set[str] = set()
        for other in _module_files(spec, context):
            helpers |= _module_helpers(other.text or "")
        names.update(local for exported, local in bindings if exported in helpers)
    return names


@dataclass
class _HtmlSafety:
    """What a component's script binds to safe HTML: build-time constants (`?raw` imports,
    constant maps of them) and sanitizing helpers (local, or imported from a changed module)."""

    vue: VueSource
    context: ReviewContext
    _helpers: set[str] | None = None
    _constants: set[str] | None = None

    @property
    def helpers(self) -> set[str]:
        if self._helpers is None:
            src = self.vue.script
            self._helpers = _sanitizing_functions(src) | _imported_helpers(src, self.context)
        return self._helpers

    @property
    def constants(self) -> set[str]:
        if self._constants is None:
            src = self.vue.script
            names = set(_RAW_IMPORT.findall(src.text))
            for match in re.finditer(
                r"(?<![\w$.])const\s+([A-Za-z_$][\w$]*)\s*(?::[^=;]*)?=\s*(?:Object\.freeze\s*\(\s*)?\{",
                src.code,
            ):
                brace = match.end() - 1
                parts = list(_split_top_level(src, brace + 1, src.close_of.get(brace, brace)))
                if parts and all(self._constant_member(src.text[a:b], names) for a, b in parts):
                    names.add(match.group(1))
            self._constants = names
        return self._constants

    def _constant_member(self, member: str, names: set[str]) -> bool:
        key, colon, value = member.partition(":")
        value = value if colon else key
        if key.strip().startswith("..."):
            return False
        return bool(_STRING_LITERAL.fullmatch(value)) or value.strip() in names

    def _helper_call(self, code: str) -> bool:
        """Whether the outermost call in `code` (past `computed(() =>` and the like) is a
        sanitizing helper, or every `return` of a block body returns one."""
        returns = [m.end() for m in _RETURN.finditer(code)]
        if returns:
            return all(self._helper_call(code[pos:].split(";", 1)[0]) for pos in returns)
        for callee in _CALLEE.finditer(code):
            name = _THIS.sub("", callee.group(1))
            if name in _WRAPPERS:
                continue
            return name in self.helpers
        return bool(_STRING_LITERAL.fullmatch(code.strip().rstrip(";")))

    @cached_property
    def _definitions(self) -> dict[str, list[str]]:
        """Each bound name's value code: `const x = <value>`, or a function's / method's body."""
        src = self.vue.script
        found: dict[str, list[str]] = {}
        for match in _ANY_BINDING.finditer(src.code):
            value = src.code[match.end() : _statement_end(src, match.end())]
            found.setdefault(match.group(1), []).append(value)
        for brace in src.opens:
            if src.code[brace] == "{":
                func = src.function(brace)
                if func is not None and func.name:
                    found.setdefault(func.name, []).append(src.code[brace + 1 : func.body[1]])
        return found

    def _bound_safely(self, name: str) -> bool:
        """A variable, computed or method whose value is a sanitizing helper's result."""
        return any(self._helper_call(value) for value in self._definitions.get(name, ()))

    def safe(self, expr: str) -> bool:
        src = self.vue.script
        if safe_html_expression(expr, src) or _SANITIZED.search(expr):
            return True
        bare = _THIS.sub("", expr)
        root = _ROOT.match(bare)
        if root is not None:
            name, access = root.group(1), root.group(2).strip()
            if access:
                return bool(_UPPER_CASE.fullmatch(name)) or name in self.constants
            return name in self.constants or name in self.helpers or self._bound_safely(name)
        callee = _CALLEE.match(bare.lstrip())
        if callee is not None:
            open_paren = bare.lstrip().index("(", callee.end() - 1)
            tail = bare.lstrip()[open_paren:]
            depth = 0
            for index, char in enumerate(tail):
                depth += {"(": 1, ")": -1}.get(char, 0)
                if depth == 0:
                    if not tail[index + 1 :].strip():
                        return _THIS.sub("", callee.group(1)) in self.helpers
                    break
        return False


# --- v-html ----------------------------------------------------------------------------------

_SCRIPT_HTML_SINK = re.compile(
    r"(?<![\w$.-])innerHTML\s*:\s*(?=[^\s:])"  # h('p', { innerHTML: x }), domProps: { innerHTML: x }
    r"|\.\s*innerHTML\s*=(?![=>])\s*"  # el.innerHTML = x
    r"|(?<![\w$.-])(?:innerHTML|v-html)\s*=\s*(?=\{)"  # JSX: <div innerHTML={x} />
)


def _script_sinks(vue: VueSource) -> Iterator[tuple[int, str]]:
    """(offset, expression) of each raw-HTML sink in the script: `innerHTML` render props,
    `el.innerHTML = ...`, JSX `innerHTML={...}`."""
    src = vue.script
    for match in _SCRIPT_HTML_SINK.finditer(src.code):
        start = match.end()
        if src.code.startswith("{", start) and match.group().rstrip().endswith("="):
            end = src.close_of.get(start, start)
            start += 1
        else:
            end = _expression_end(src, start)
        expression = src.text[start:end].strip()
        if expression and not _NOT_A_VALUE.match(expression):
            yield match.start(), expression


def check_v_html(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """`v-html` (or an `innerHTML` binding, render-function prop or assignment) on a value that
    is not constant: Vue inserts it as raw HTML, so attacker-controlled parts run as script.
    String literals, sanitizer calls (`DOMPurify.sanitize(...)`, `sanitize(...)`), build-time
    constants (`import svg from './icon.svg?raw'`, UPPER_CASE constants and constant maps of
    them), and names the script binds to a literal or a sanitized value (variables, computed
    properties, methods, helpers whose body sanitizes, including helpers imported from a
    module changed alongside) are exempt."""
    vue = component_source(file)
    if vue is None:
        return
    safety = _HtmlSafety(vue, context)
    sinks = [(m.start(), _value(m)[1]) for m in _V_HTML.finditer(vue.template)]
    sinks.extend(_script_sinks(vue))
    seen: set[int] = set()
    for pos, expression in sorted(sinks):
        number = vue.script.line(pos)
        if number in seen or not file.is_changed(number) or safety.safe(expression):
            continue
        seen.add(number)
        shown = " ".join(expression.split())[:60]
        yield Hit(
            number,
            rationale=f"`{shown}` is rendered as raw HTML (v-html/innerHTML) without sanitizing: attacker-controlled markup in it runs as script (XSS).",
        )


def _aliases(template: str) -> set[str]:
    """Names bound in the template itself (`v-for` items, slot props), which shadow props."""
    names: set[str] = set()
    for match in _SCOPE_ALIASES.finditer(template):
        _, value = _value(match)
        head = _FOR_ALIASES.match(value)
        names.update(_NAME.findall(head.group(1) if head else value))
    return names


def _script_mutations(vue: VueSource) -> Iterator[tuple[int, str]]:
    code = vue.script.code
    for name in vue.props_objects:
        for match in re.finditer(
            rf"(?<![\w$.]){re.escape(name)}\s*\??\.\s*([A-Za-z_$][\w$]*){_MUTATION}", code
        ):
            yield match.start(), match.group(1)
    if vue.props:
        for match in re.finditer(rf"(?<![\w$.])this\s*\.\s*([A-Za-z_$][\w$]*){_MUTATION}", code):
            if match.group(1) in vue.props:
                yield match.start(), match.group(1)
    if vue.destructured:
        names = "|".join(map(re.escape, sorted(vue.destructured)))
        for match in re.finditer(rf"(?<![\w$.])({names}){_MUTATION}", code):
            # `items.push(...)`, `user.name = ...`: a bare `items = ...` would be a const error
            if match.group(2).strip() or match.group().endswith("("):
                yield match.start(), match.group(1)


def _template_mutations(vue: VueSource) -> Iterator[tuple[int, str]]:
    shadowed = _aliases(vue.template)
    props = vue.props - shadowed
    objects = vue.props_objects | {"$props"}
    for match in _V_MODEL.finditer(vue.template):
        start, value = _value(match)
        root = _ROOT.match(value)
        if root is None:
            continue
        first = root.group(1)
        member = _NAME.search(root.group(2) or "")
        if first in props:
            yield start, first
        elif first in objects and member:
            yield start, member.group()
    if not props:
        return
    pattern = re.compile(rf"(?<![\w$.'\"])({'|'.join(map(re.escape, sorted(props)))}){_MUTATION}")
    for match in _HANDLER.finditer(vue.template):
        start, value = _value(match)
        for mutation in pattern.finditer(value):
            yield start + mutation.start(), mutation.group(1)


def check_prop_mutation(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """A component writing to its own props: `props.x = ...`, `props.list.push(...)`,
    `this.x = ...` for a declared prop, `items.push(...)` on a prop destructured from
    `defineProps`, `v-model="x"` or `@click="x = ..."` on a prop in the
    template. Props are owned by the parent: the write is overwritten on the next parent render
    (and Vue warns). Copies into local state (`ref(props.x)`) and `emit('update:x', ...)` are
    the fix and do not match; template names bound by `v-for` or slot props shadow props."""
    vue = component_source(file)
    if vue is None:
        return
    seen: set[int] = set()
    for pos, name in sorted([*_script_mutations(vue), *_template_mutations(vue)]):
        number = vue.script.line(pos)
        if number not in seen and file.is_changed(number):
            seen.add(number)
            yield Hit(
                number,
                rationale=f"The prop `{name}` is mutated by the component that receives it: the parent owns it, so the change is lost on the next parent render (and Vue warns).",
            )


PACK = RulePack(
    name="vue",
    matches=lambda path: (
        "/node_modules/" not in f"/{path}"
        and (path.lower().endswith((".vue", *_JS_SUFFIXES)) and not path.lower().endswith(".d.ts"))
    ),
    checks=(
        (
            Rule(
                id="vue.v-html-unsanitized",
                category="unsafe-html-injection",
                severity=Severity.HIGH,
                rationale="`v-html` inserts its value as raw HTML: any attacker-controlled part of it can run script in the user's session (XSS).",
                suggested_fix="Render the data with text interpolation (`{{ }}`), or sanitize it first (e.g. a computed returning `DOMPurify.sanitize(html)`).",
            ),
            check_v_html,
        ),
        (
            Rule(
                id="vue.prop-mutation",
                category="prop-mutation",
                severity=Severity.MEDIUM,
                rationale="Props are one-way data owned by the parent: mutating one in the child is overwritten on the next parent render, desynchronises parent and child, and triggers Vue warnings.",
                suggested_fix="Copy the prop into local state (`const local = ref(props.x)`) or emit the change (`emit('update:x', value)`, `defineModel()`) and let the parent update it.",
            ),
            check_prop_mutation,
        ),
    ),
)
