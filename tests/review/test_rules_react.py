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
