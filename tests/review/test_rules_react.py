"""The react rule pack: firing cases, near-misses, changed-line filtering, suppression."""

from __future__ import annotations

import pytest
from rulekit import review_text

from code_assistant_lora.findings import Severity

CONDITIONAL_HOOKS = """\
import { useState, useEffect, useMemo } from "react";

export function Profile({ user, loading }: Props) {
  const [count, setCount] = useState(user ? 1 : 0);
  if (loading) {
    const [draft] = useState("");
  }
  const theme = loading ? useTheme() : null;
  for (const item of user.items) {
    useEffect(() => track(item), [item]);
  }
  const rows = user.items.map((item) => useRow(item));
  if (!user) return null;
  const total = useMemo(() => count * 2, [count]);
  return <div>{total}</div>;
}

function useThing(id: string) {
  const other = id && useOther(id);
  return other;
}
"""


def test_conditional_hooks_fire():
    findings = review_text("src/components/Profile.tsx", CONDITIONAL_HOOKS, only="react")
    assert [(f.rule, f.line) for f in findings] == [
        ("react.conditional-hook", 6),
        ("react.conditional-hook", 8),
        ("react.conditional-hook", 10),
        ("react.conditional-hook", 12),
        ("react.conditional-hook", 14),
        ("react.conditional-hook", 19),
    ]
    assert {f.severity for f in findings} == {Severity.MEDIUM}
    reasons = [f.rationale for f in findings]
    assert "inside a condition" in reasons[0] and "inside a loop" in reasons[2]
    assert "nested callback" in reasons[3] and "after an early return" in reasons[4]


CLEAN_HOOKS = """\
import React, { useState, useEffect, useCallback } from "react";

export const Panel = ({ open, items }) => {
  const [value, setValue] = useState(open ?? false);
  const query = useQuery({ enabled: !!open, queryFn: () => (open ? load() : null) });
  const sorted = React.useMemo(() => items.filter((i) => i.visible || i.pinned), [items]);
  useEffect(() => {
    if (open) setValue(true);
  }, [open]);
  const onClick = useCallback(() => {
    if (!value) return;
    setValue(false);
  }, [value]);
  if (!open) return null;
  return <ul>{sorted.map((i) => <li key={i.id}>{i.name}</li>)}</ul>;
};

export function useToggle(initial) {
  const [on, setOn] = useState(initial);
  const toggle = useCallback(() => setOn((v) => !v), []);
  return [on, toggle];
}

function helper(flag) {
  if (flag) return useNotAHookContext();
}
"""


def test_hooks_at_top_level_do_not_fire():
    assert review_text("src/components/Panel.jsx", CLEAN_HOOKS, only="react") == []


MISSING_DEPS = """\
import { useEffect, useState, useCallback, useMemo, useRef } from "react";

export default function Search({ query, onResults, pageSize = 10 }) {
  const [page, setPage] = useState(1);
  const timer = useRef(null);
  useEffect(() => {
    fetchResults(query, page).then(onResults);
  }, [query]);
  const label = useMemo(() => `Page ${page} of ${pageSize}`, []);
  return <div>{label}</div>;
}

function Item(props) {
  useEffect(() => {
    track(props.id);
  }, []);
  return null;
}
"""


def test_missing_dependencies_fire_on_the_dependency_array():
    findings = review_text("src/components/Search.jsx", MISSING_DEPS, only="react")
    assert [(f.rule, f.line, f.severity) for f in findings] == [
        ("react.missing-hook-dependency", 8, Severity.MEDIUM),
        ("react.missing-hook-dependency", 9, Severity.MEDIUM),
        ("react.missing-hook-dependency", 16, Severity.MEDIUM),
    ]
    assert "`page`, `onResults`" in findings[0].rationale
    assert "`page`, `pageSize`" in findings[1].rationale
    assert "`props.id`" in findings[2].rationale


COMPLETE_DEPS = """\
import { useEffect, useState, useCallback, useMemo, useRef } from "react";

export default function Search({ query, onResults }) {
  const [page, setPage] = useState(1);
  const timer = useRef(null);
  useEffect(() => {
    fetchResults(query, page).then(onResults);
  }, [query, page, onResults]);
  useEffect(() => {
    timer.current = setTimeout(() => setPage(1), 100);
  }, []);
  const next = useCallback(() => setPage((p) => p + 1), []);
  const doubled = useMemo(() => page * 2);
  useEffect(() => {
    const page = 3;
    console.info({ page });
  }, []);
  useEffect(() => {
    load(query);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  return <div>{doubled}</div>;
}

function Item(props) {
  useEffect(() => track(props.id), [props.id]);
  return null;
}
"""


def test_complete_or_absent_dependency_arrays_do_not_fire():
    assert review_text("src/components/Search.tsx", COMPLETE_DEPS, only="react") == []


def test_custom_hook_module_parameters_count_as_inputs():
    text = "import { useEffect } from 'react';\nexport function useTitle(title) {\n  useEffect(() => {\n    document.title = title;\n  }, []);\n}\n"
    findings = review_text("src/hooks/useTitle.ts", text, only="react")
    assert [(f.rule, f.line) for f in findings] == [("react.missing-hook-dependency", 5)]


@pytest.mark.parametrize(
    ("value", "fires"),
    [
        ("{{ __html: post.body }}", True),
        ("{{ __html: `<p>${post.title}</p>` }}", True),
        ("{{ __html: marked(post.body) }}", True),
        ("{{ __html: DOMPurify.sanitize(post.body) }}", False),
        ("{{ __html: clean }}", False),
        ('{{ __html: "<br/>" }}', False),
        ("{{ __html: FOOTER_HTML }}", False),
        ("{{ __html: JSON.stringify(post.jsonLd) }}", False),
    ],
)
def test_dangerously_set_inner_html(value, fires):
    text = (
        'import DOMPurify from "dompurify";\n'
        "export function Post({ post }) {\n"
        "  const clean = DOMPurify.sanitize(post.body);\n"
        f"  return <div dangerouslySetInnerHTML={value} />;\n"
        "}\n"
    )
    findings = review_text("src/components/Post.jsx", text, only="react")
    expected = [("react.dangerously-set-inner-html", 4, Severity.HIGH)] if fires else []
    assert [(f.rule, f.line, f.severity) for f in findings] == expected


def test_react_pack_claims_jsx_hooks_and_react_imports_only():
    hooky = "export function Thing({ a }) {\n  if (a) { useEffect(() => {}); }\n}\n"
    assert review_text("src/Thing.tsx", hooky, only="react")
    assert review_text("src/thing.js", "import React from 'react';\n" + hooky, only="react")
    assert review_text("src/thing.ts", hooky, only="react") == []
    assert review_text("src/thing.py", hooky, only="react") == []


def test_only_added_lines_are_reported():
    old = "export function A({ a }) {\n  const [x] = useState(0);\n  return null;\n}\n"
    new = "export function A({ a }) {\n  const [x] = useState(0);\n  if (a) {\n    useEffect(() => {});\n  }\n  return null;\n}\n"
    findings = review_text("src/A.jsx", new, old, only="react")
    assert [(f.rule, f.line) for f in findings] == [("react.conditional-hook", 4)]
    unchanged = review_text(
        "src/A.jsx", new.replace("return null", "return <p/>"), new, only="react"
    )
    assert unchanged == []


def test_inline_suppression():
    text = (
        "export function A({ html }) {\n"
        "  // code-assistant: ignore[react.dangerously-set-inner-html]\n"
        "  return <div dangerouslySetInnerHTML={{ __html: html }} />;\n"
        "}\n"
    )
    assert review_text("src/A.jsx", text, only="react") == []


@pytest.mark.parametrize(
    "text",
    [
        "",
        "}}}{{((",
        "function A({a}) { useEffect(() => { a }, [",
        "dangerouslySetInnerHTML={{__html:",
        "<div dangerouslySetInnerHTML=",
        "function A({ a }) { const { b } = useB(); const c = ",
        "useState(",
        "<p>Don't</p>",
    ],
)
def test_odd_input_never_raises(text):
    line_count = max(1, len(text.splitlines()))
    for old in (None, "x\n"):
        for finding in review_text("src/A.tsx", text, old=old, only="react"):
            assert finding.rule.startswith("react.")
            assert 1 <= finding.line <= line_count


def test_modules_named_like_user_are_not_hook_modules():
    hooky = "export function Thing({ a }) {\n  if (a) { useEffect(() => {}); }\n}\n"
    assert review_text("src/hooks/use-thing.ts", hooky, only="react")
    assert review_text("src/services/userService.ts", hooky, only="react") == []


def test_hooks_in_concise_arrow_callbacks_and_try_blocks_fire():
    text = (
        "export function Board({ ids }) {\n"
        "  const rows = ids.map((id) =>\n"
        "    useQuery({ queryKey: [id] }),\n"
        "  );\n"
        "  try {\n"
        "    const data = useSuspenseQuery(q);\n"
        "  } finally {\n"
        "    cleanup();\n"
        "  }\n"
        "  return null;\n"
        "}\n"
    )
    findings = review_text("src/Board.tsx", text, only="react")
    assert [(f.rule, f.line) for f in findings] == [
        ("react.conditional-hook", 3),
        ("react.conditional-hook", 6),
    ]
    assert "nested callback" in findings[0].rationale and "try" in findings[1].rationale


def test_early_return_added_above_unchanged_hooks_is_reported_at_the_return():
    old = (
        "export function Card({ user }) {\n"
        "  const [open, setOpen] = useState(false);\n"
        "  const theme = useTheme();\n"
        "  return <div>{user.name}</div>;\n"
        "}\n"
    )
    new = (
        "export function Card({ user }) {\n"
        "  if (!user) {\n"
        "    return null;\n"
        "  }\n"
        "  const [open, setOpen] = useState(false);\n"
        "  const theme = useTheme();\n"
        "  return <div>{user.name}</div>;\n"
        "}\n"
    )
    findings = review_text("src/Card.tsx", new, old, only="react")
    assert [(f.rule, f.line, f.end_line) for f in findings] == [("react.conditional-hook", 3, 5)]
    assert "`useState` (line 5)" in findings[0].rationale
    # A return that was already there is not this change's problem.
    assert review_text("src/Card.tsx", new.replace("user.name", "user.email"), new) == []


DERIVED_DEPS = """\
import { useCallback, useContext, useEffect, useMemo } from "react";

export function Report({ user, rows }) {
  const { locale } = useContext(LocaleContext);
  const userId = useSelector((s) => s.auth.userId);
  const fullName = `${user.first} ${user.last}`;
  const load = useCallback(() => fetchReport(userId), [userId]);
  useEffect(() => {
    document.title = fullName;
    moment.locale(locale);
    load();
  }, []);
  return null;
}
"""


def test_values_derived_from_props_state_or_hooks_count_as_dependencies():
    findings = review_text("src/Report.tsx", DERIVED_DEPS, only="react")
    assert [(f.rule, f.line) for f in findings] == [("react.missing-hook-dependency", 12)]
    assert "`fullName`, `locale`, `load`" in findings[0].rationale


STABLE_LOCALS = """\
import { useEffect, useRef, useState, useTransition } from "react";

export function Guard({ user, id }) {
  const router = useRouter();
  const navigate = useNavigate();
  const { toast } = useToast();
  const notify = useNotifications();
  const box = useRef(null);
  const [isPending, startTransition] = useTransition();
  const [data, setData] = useState(null);
  const POLL_MS = 5000;
  const options = { retry: 3 };
  const reload = async () => setData(await get(id));
  useEffect(() => {
    if (!user) {
      toast({ title: "Please sign in" });
      notify.info("redirect");
      startTransition(() => router.replace("/login"));
      navigate("/login");
    }
    box.current?.focus();
    const t = setInterval(() => poll(options), POLL_MS);
    reload();
    return () => clearInterval(t);
  }, [user]);
  return null;
}
"""


def test_stable_or_function_locals_are_not_missing_dependencies():
    assert review_text("src/Guard.tsx", STABLE_LOCALS, only="react") == []


def test_unchanged_hook_calls_are_not_reported_for_unrelated_edits():
    old = "export function A({ a }) {\n  useEffect(() => {\n    track(a);\n  }, []);\n  return null;\n}\n"
    new = old.replace("return null", "return <p>{a}</p>")
    assert review_text("src/A.jsx", new, old, only="react") == []


@pytest.mark.parametrize(
    ("prelude", "value", "fires"),
    [
        ("const markup = { __html: post.body };", "{markup}", True),
        ("const markup = { __html: DOMPurify.sanitize(post.body) };", "{markup}", False),
        (
            "function createMarkup(html) {\n  return { __html: html };\n}",
            "{createMarkup(post.body)}",
            True,
        ),
        (
            "function createMarkup(html) {\n  return { __html: DOMPurify.sanitize(html) };\n}",
            "{createMarkup(post.body)}",
            False,
        ),
        (
            'function createMarkup() {\n  return { __html: "First &middot; Second" };\n}',
            "{createMarkup()}",
            False,
        ),
        ("", "{post.markup}", True),
        ("", "{toHtml(post.body)}", True),
        ("", "{toSafeHtml(post.body)}", False),
        ("", "{{ __html: hljs.highlight(post.code, { language: 'ts' }).value }}", False),
        ('import logo from "./logo.svg?raw";', "{{ __html: logo }}", False),
        ('import logo from "./logo";', "{{ __html: logo }}", True),
    ],
)
def test_dangerously_set_inner_html_judges_objects_built_elsewhere(prelude, value, fires):
    text = f"{prelude}\nexport function Post({{ post }}) {{\n  return <div dangerouslySetInnerHTML={value} />;\n}}\n"
    findings = review_text("src/components/Post.jsx", text, only="react")
    line = prelude.count("\n") + 3
    assert [(f.rule, f.line) for f in findings] == (
        [("react.dangerously-set-inner-html", line)] if fires else []
    )


@pytest.mark.parametrize(
    ("binding", "fires"),
    [
        ("const html = hljs.highlight(post.code, { language: 'ts' }).value;", False),
        (
            "const html = useMemo(() => Prism.highlight(post.code, grammar, 'ts'), [post.code]);",
            False,
        ),
        ("const html = useMemo(() => katex.renderToString(post.tex), [post.tex]);", False),
        ("const html = marked.parse(post.body);", True),
        ("const html = useMemo(() => marked.parse(post.body), [post.body]);", True),
    ],
)
def test_names_bound_to_escaping_renderers_are_safe_html(binding, fires):
    text = (
        "export function Post({ post }) {\n"
        f"  {binding}\n"
        "  return <div dangerouslySetInnerHTML={{ __html: html }} />;\n"
        "}\n"
    )
    findings = review_text("src/components/Post.jsx", text, only="react")
    assert [(f.rule, f.line) for f in findings] == (
        [("react.dangerously-set-inner-html", 3)] if fires else []
    )


def test_a_derived_value_is_covered_by_the_state_it_comes_from():
    text = (
        "export function Cart({ cart }) {\n"
        "  const [state, dispatch] = useReducer(reducer, cart);\n"
        "  const { items } = state;\n"
        "  const count = items.length;\n"
        "  useEffect(() => {\n"
        "    save(items, count);\n"
        "  }, [state]);\n"
        "  return null;\n"
        "}\n"
    )
    assert review_text("src/Cart.tsx", text, only="react") == []


def test_unsafe_in_a_name_or_comment_is_not_a_sanitizer():
    text = (
        "export function Post({ post }) {\n"
        "  const markup = { __html: post.unsafeHtml }; // safe? no\n"
        "  return <div dangerouslySetInnerHTML={markup} />;\n"
        "}\n"
    )
    findings = review_text("src/components/Post.jsx", text, only="react")
    assert [(f.rule, f.line) for f in findings] == [("react.dangerously-set-inner-html", 3)]
