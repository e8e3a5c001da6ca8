"""The vue rule pack: firing cases, near-misses, changed-line filtering, suppression."""

from __future__ import annotations

import pytest
from rulekit import file_change, review, review_text

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


# --- v-html: constants, helpers, render functions -------------------------------------------------


def _v_html_lines(path, text, *others):
    findings = review(file_change(path, text), *others, only="vue")
    return [f.line for f in findings if f.rule == "vue.v-html-unsanitized"]


def test_v_html_build_time_constants_are_safe():
    text = """\
<template>
  <i v-html="spinnerSvg"></i>
  <i v-html="ICONS[name]"></i>
  <i v-html="icons[name]"></i>
  <i v-html="userIcons[name]"></i>
</template>
<script setup lang="ts">
import spinnerSvg from '@/assets/spinner.svg?raw'
import check from '@/assets/check.svg?raw'
const props = defineProps<{ name: string; custom: string }>()
const ICONS = { check } as const
const icons = { check, close: '<svg></svg>' }
const userIcons = { check, custom: props.custom }
</script>
"""
    assert _v_html_lines("src/Icon.vue", text) == [5]


def test_v_html_through_a_sanitizing_helper():
    text = """\
<template>
  <div v-html="clean(body)"></div>
  <div v-html="preview"></div>
  <div v-html="rendered"></div>
  <div v-html="marked(body)"></div>
</template>
<script setup>
import { computed } from 'vue'
import DOMPurify from 'dompurify'
import { marked } from 'marked'
const props = defineProps({ body: String })
const clean = (html) => DOMPurify.sanitize(html)
const preview = computed(() => clean(marked.parse(props.body)))
const rendered = computed(() => marked.parse(clean(props.body)))
</script>
"""
    # marked output is only safe when sanitized last; `rendered` sanitizes the input instead
    assert _v_html_lines("src/Preview.vue", text) == [4, 5]


OPTIONS_PREVIEW = """\
<template>
  <div v-html="html"></div>
</template>
<script>
import { renderMarkdown } from '@/utils/markdown'
export default {
  props: ['source'],
  computed: {
    html() {
      return renderMarkdown(this.source)
    },
  },
}
</script>
"""


def test_v_html_helper_imported_from_a_changed_module():
    safe = file_change(
        "src/utils/markdown.ts",
        "import DOMPurify from 'dompurify'\nimport { marked } from 'marked'\n\n"
        "export function renderMarkdown(source: string): string {\n"
        "  const html = marked.parse(source) as string\n  return DOMPurify.sanitize(html)\n}\n",
    )
    unsafe = file_change(
        "src/utils/markdown.ts",
        "import { marked } from 'marked'\n\n"
        "export function renderMarkdown(source: string): string {\n"
        "  return marked.parse(source) as string\n}\n",
    )
    assert _v_html_lines("src/Preview.vue", OPTIONS_PREVIEW, safe) == []
    assert _v_html_lines("src/Preview.vue", OPTIONS_PREVIEW, unsafe) == [2]
    # not in the change: nothing says it sanitizes
    assert _v_html_lines("src/Preview.vue", OPTIONS_PREVIEW) == [2]


def test_inner_html_in_render_functions_and_script():
    ts = """\
import { defineComponent, h, type PropType } from 'vue'
interface Props { innerHTML: string | null }
export default defineComponent({
  props: { message: { type: String, required: true }, innerHTML: { type: String, default: '' } },
  setup(props) {
    return () => h('p', { class: 'msg', innerHTML: props.message })
  },
})
"""
    assert _v_html_lines("src/Message.ts", ts) == [6]
    vue2 = "import Vue from 'vue'\nexport default Vue.extend({\n  props: ['html'],\n  render(h) {\n    return h('div', { domProps: { innerHTML: this.html } })\n  },\n})\n"
    assert _v_html_lines("src/Legacy.js", vue2) == [5]
    tsx = "import { defineComponent } from 'vue'\nexport default defineComponent({\n  props: { html: String },\n  setup(props) {\n    return () => <div innerHTML={props.html} />\n  },\n})\n"
    assert _v_html_lines("src/Html.tsx", tsx) == [5]
    sfc = """\
<template><div ref="el"></div></template>
<script setup lang="ts">
import { onMounted, ref } from 'vue'
const props = defineProps<{ html: string }>()
const el = ref<HTMLElement>()
onMounted(() => {
  el.value!.innerHTML = ''
  el.value!.innerHTML = props.html
})
</script>
"""
    assert _v_html_lines("src/Raw.vue", sfc) == [8]


def test_plain_js_without_vue_is_not_read():
    text = "export function paint(el, html) {\n  el.innerHTML = html\n}\n"
    assert review_text("src/paint.js", text, only="vue") == []


def test_prop_mutation_through_destructured_props():
    text = """\
<template><p>{{ items.length }}</p></template>
<script setup lang="ts">
const { items, user = { name: '' }, ...rest } = defineProps<{
  items: string[]
  user?: { name: string }
  extra?: string[]
}>()
function add(value: string) {
  items.push(value)
  user.name = value
  rest.extra = []
  const copy = [...items]
  copy.push(value)
}
</script>
"""
    findings = review_text("src/List.vue", text, only="vue")
    assert [(f.rule, f.line) for f in findings] == [
        ("vue.prop-mutation", 9),
        ("vue.prop-mutation", 10),
        ("vue.prop-mutation", 11),
    ]


def test_prop_mutation_in_define_component_ts_file():
    text = "import { defineComponent } from 'vue'\nexport default defineComponent({\n  props: { open: Boolean },\n  setup(props) {\n    const close = () => {\n      props.open = false\n    }\n    return { close }\n  },\n})\n"
    findings = review_text("src/Dialog.ts", text, only="vue")
    assert [(f.rule, f.line) for f in findings] == [("vue.prop-mutation", 6)]
