"""The JavaScript/TypeScript import graph."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from code_assistant_lora.select.jsgraph import is_test, related_tests, resolve, specifiers

CODE = """
import React, { useState } from "react";
import type { Props } from './types';
import './side-effect.css';
export { helper } from "../lib/helper.js";
export * from './all';
const util = require('./util');
const lazy = await import("./lazy");
"""


def test_specifiers():
    assert specifiers(CODE) == [
        "react",
        "./types",
        "./side-effect.css",
        "../lib/helper.js",
        "./all",
        "./util",
        "./lazy",
    ]


def test_resolve_extensions_index_and_ts_js():
    files = {"src/types.ts", "lib/helper.ts", "src/util/index.js", "src/all.tsx"}
    assert resolve("src/a.ts", "./types", files) == "src/types.ts"
    assert resolve("src/a.ts", "../lib/helper.js", files) == "lib/helper.ts"
    assert resolve("src/a.ts", "./util", files) == "src/util/index.js"
    assert resolve("src/a.ts", "react", files) is None
    assert resolve("a.ts", "../../x", files) is None


def test_related_tests_follow_chains():
    files = {
        "src/math.ts": "export const add = (a, b) => a + b;\n",
        "src/calc.ts": "import { add } from './math';\nexport const twice = (a) => add(a, a);\n",
        "src/calc.test.ts": "import { twice } from './calc';\n",
        "src/__tests__/other.js": "const x = require('../other');\n",
        "src/other.js": "module.exports = 1;\n",
    }
    found = related_tests(["src/math.ts"], list(files), lambda p: files[p].encode())
    assert found == {"src/calc.test.ts": ["src/calc.test.ts", "src/calc.ts", "src/math.ts"]}
    assert is_test("src/__tests__/other.js") and not is_test("src/other.js")


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_specifier_parser_never_raises(text):
    assert all(isinstance(s, str) for s in specifiers(text))
