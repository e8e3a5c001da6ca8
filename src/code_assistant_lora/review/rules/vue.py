"""The vue rule pack: `v-html` on dynamic data and props mutated by the child component.

A single-file component is split into its `<template>` and `<script>` blocks without moving any
offset: the script is read as masked JavaScript (see the typescript pack) over a copy of the file
in which everything else is blanked, and the template is read with HTML comments blanked. Declared
props come from `defineProps(...)` (runtime object or array, or a type literal / named interface)
and the Options API `props:` option.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from ...findings import Severity
from ..rule import FileUnderReview, Hit, ReviewContext, Rule, RulePack
from .typescript import JsSource, js_source, safe_html_expression

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


@lru_cache(maxsize=16)
def vue_source(text: str) -> VueSource:
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
    return VueSource(script, template, frozenset(_declared_props(script)), frozenset(objects))


def _value(match: re.Match[str]) -> tuple[int, str]:
    group = 1 if match.group(1) is not None else 2
    return match.start(group), match.group(group)


def check_v_html(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """`v-html` (or an `innerHTML` binding) on a value that is not constant: Vue inserts it as
    raw HTML, so attacker-controlled parts run as script. String literals, sanitizer calls
    (`DOMPurify.sanitize(...)`, `sanitize(...)`), and names the script binds to a literal or a
    sanitized value (variables, computed properties, methods) are exempt."""
    if not file.text:
        return
    vue = vue_source(file.text)
    for match in _V_HTML.finditer(vue.template):
        number = vue.script.line(match.start())
        _, expression = _value(match)
        if file.is_changed(number) and not safe_html_expression(expression, vue.script):
            yield Hit(
                number,
                rationale=f'`v-html="{expression.strip()[:60]}"` renders unsanitized HTML: attacker-controlled markup in it runs as script (XSS).',
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
    `this.x = ...` for a declared prop, `v-model="x"` or `@click="x = ..."` on a prop in the
    template. Props are owned by the parent: the write is overwritten on the next parent render
    (and Vue warns). Copies into local state (`ref(props.x)`) and `emit('update:x', ...)` are
    the fix and do not match; template names bound by `v-for` or slot props shadow props."""
    if not file.text:
        return
    vue = vue_source(file.text)
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
    matches=lambda path: path.lower().endswith(".vue") and "/node_modules/" not in f"/{path}",
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
