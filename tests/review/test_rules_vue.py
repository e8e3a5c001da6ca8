"""The vue rule pack: firing cases, near-misses, changed-line filtering, suppression."""

from __future__ import annotations

import pytest
from rulekit import review_text

from code_assistant_lora.findings import Severity

SETUP_COMPONENT = """\
<template>
  <article>
    <div v-html="post.body"></div>
    <div v-html="safeBody"></div>
    <div v-html="'<br>'"></div>
    <div v-html="DOMPurify.sanitize(post.body)"></div>
    <!-- <div v-html="post.body"></div> -->
    <input v-model="title" />
    <input v-model="localTitle" />
    <button @click="open = !open">toggle</button>
    <button @click="emit('update:open', !open)">close</button>
    <li v-for="item in items" :key="item.id"><input v-model="item.done" /></li>
    <div v-html="rendered"></div>
  </article>
</template>

<script setup lang="ts">
import { ref, computed } from "vue";
import DOMPurify from "dompurify";
import { marked } from "marked";

const props = defineProps<{ post: Post; title: string; open?: boolean; items: Item[] }>();
const emit = defineEmits(["update:open"]);
const localTitle = ref(props.title);
const safeBody = computed(() =>
  DOMPurify.sanitize(props.post.body)
);
const rendered = computed(() => marked(props.post.body));

function rename(value: string) {
  props.title = value;
  props.items.push({ id: 1 });
  if (props.title === value) emit("update:open", false);
}
</script>
"""


def test_v_html_fires_on_dynamic_values_only():
    findings = [
        f
        for f in review_text("src/components/Post.vue", SETUP_COMPONENT, only="vue")
        if f.rule == "vue.v-html-unsanitized"
    ]
    assert [(f.line, f.severity) for f in findings] == [(3, Severity.HIGH), (13, Severity.HIGH)]
    assert "post.body" in findings[0].rationale


def test_prop_mutation_fires_in_template_and_script_setup():
    findings = [
        f
        for f in review_text("src/components/Post.vue", SETUP_COMPONENT, only="vue")
        if f.rule == "vue.prop-mutation"
    ]
    assert [(f.line, f.severity) for f in findings] == [
        (8, Severity.MEDIUM),
        (10, Severity.MEDIUM),
        (31, Severity.MEDIUM),
        (32, Severity.MEDIUM),
    ]
    assert "`title`" in findings[0].rationale and "`items`" in findings[3].rationale


@pytest.mark.parametrize(
    ("script", "line"),
    [
        (
            "export default {\n  props: ['value', 'count'],\n  methods: {\n    inc() {\n      this.count++;\n    },\n  },\n};",
            9,
        ),
        (
            "export default {\n  props: { count: { type: Number, required: true } },\n  methods: {\n    reset() {\n      this.count = 0;\n    },\n  },\n};",
            9,
        ),
        (
            "export default defineComponent({\n  props: { count: Number },\n  setup(props) {\n    const reset = () => {\n      props.count = 0;\n    };\n    return { reset };\n  },\n});",
            9,
        ),
    ],
)
def test_prop_mutation_fires_in_options_api(script, line):
    text = f"<template>\n  <p>{{{{ count }}}}</p>\n</template>\n<script>\n{script}\n</script>\n"
    findings = review_text("src/components/Counter.vue", text, only="vue")
    assert [(f.rule, f.line) for f in findings] == [("vue.prop-mutation", line)]


def test_v_model_on_a_runtime_declared_prop_fires():
    text = '<template>\n  <input v-model="modelValue" />\n</template>\n<script setup>\nconst props = defineProps({ modelValue: String });\n</script>\n'
    findings = review_text("src/components/Field.vue", text, only="vue")
    assert [(f.rule, f.line, f.severity) for f in findings] == [
        ("vue.prop-mutation", 2, Severity.MEDIUM)
    ]


CLEAN_COMPONENT = """\
<template>
  <input v-model="local" @input="emit('update:modelValue', local)" />
  <p v-html="'<em>static</em>'"></p>
  <p v-html="cleaned"></p>
  <p v-html="$t('terms.html')"></p>
  <p>{{ modelValue }}</p>
</template>

<script setup>
import { ref, computed } from "vue";
import { sanitize } from "@/lib/html";

const props = defineProps({ modelValue: String, html: String });
const emit = defineEmits(["update:modelValue"]);
const local = ref(props.modelValue);
const cleaned = computed(() => sanitize(props.html));
const model = defineModel("other");
function set(v) {
  local.value = v;
  model.value = v;
  emit("update:modelValue", v);
}
</script>
"""


def test_clean_component_does_not_fire():
    assert review_text("src/components/Clean.vue", CLEAN_COMPONENT, only="vue") == []


def test_options_api_copy_into_data_does_not_fire():
    text = (
        "<template><p>{{ local }}</p></template>\n<script>\nexport default {\n  props: ['value'],\n"
        "  data() {\n    return { local: this.value };\n  },\n  methods: {\n    set(v) {\n      this.local = v;\n"
        "      this.$emit('input', v);\n    },\n  },\n};\n</script>\n"
    )
    assert review_text("src/components/Copy.vue", text, only="vue") == []


def test_only_added_lines_are_reported():
    old = SETUP_COMPONENT.replace('    <div v-html="rendered"></div>\n', "")
    findings = review_text("src/components/Post.vue", SETUP_COMPONENT, old, only="vue")
    assert [(f.rule, f.line) for f in findings] == [("vue.v-html-unsanitized", 13)]


def test_inline_suppression():
    text = '<template>\n  <!-- code-assistant: ignore[vue.v-html-unsanitized] -->\n  <div v-html="trustedCmsHtml"></div>\n  <div v-html="userBio"></div>\n</template>\n'
    findings = review_text("src/components/Bio.vue", text, only="vue")
    assert [(f.rule, f.line) for f in findings] == [("vue.v-html-unsanitized", 4)]


@pytest.mark.parametrize(
    "text",
    [
        "",
        '<template><div v-html="x',
        "<script>props.",
        "<script setup>defineProps<",
        "<script>export default { props: [",
        "\x00\ufffd",
    ],
)
def test_odd_input_never_raises(text):
    line_count = max(1, len(text.splitlines()))
    for old in (None, "x\n"):
        for finding in review_text("src/A.vue", text, old=old, only="vue"):
            assert finding.rule.startswith("vue.")
            assert 1 <= finding.line <= line_count
