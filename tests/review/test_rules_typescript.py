"""The typescript rule pack: firing cases, near-misses, changed-line filtering, suppression."""

from __future__ import annotations

import pytest
from rulekit import review_text, rule_ids

from code_assistant_lora.findings import Severity

API_CLIENT = """\
import axios from "axios";

// any of these may change
export interface User {
  id: number;
  company: string;
  meta: any;
}

interface Internal {
  raw: any;
}

export type Page<T = any> = { items: T[]; cursor: string };

export async function getUser(id: string): Promise<any> {
  const res: any = await axios.get(`/users/${id}`);
  return res.data;
}

export const listUsers = async (query: unknown): Promise<User[]> => {
  const body: any = { query };
  return (await axios.post("/users/search", body)).data;
};

export class UsersClient {
  private cache: any;
  async update(id: string, patch: any): Promise<User> {
    const res: any = await axios.patch(`/users/${id}`, patch);
    return res.data;
  }
}
"""


def test_any_in_api_client_types_fires_on_exported_type_surface_only():
    findings = [f for f in review_text("src/api/users.ts", API_CLIENT, only="typescript")]
    assert [(f.rule, f.line) for f in findings] == [
        ("typescript.any-in-api-types", 7),
        ("typescript.any-in-api-types", 14),
        ("typescript.any-in-api-types", 16),
        ("typescript.any-in-api-types", 28),
    ]
    assert {f.severity for f in findings} == {Severity.MEDIUM}


@pytest.mark.parametrize(
    ("path", "text"),
    [
        # Not an API client: no api/client/service path and no HTTP calls.
        ("src/utils/format.ts", "export function fmt(x: any): string {\n  return String(x);\n}\n"),
        # `unknown` is the recommended alternative.
        (
            "src/api/users.ts",
            "export async function get(): Promise<unknown> {\n  return fetch('/u');\n}\n",
        ),
        # "any" in comments, strings and longer words.
        (
            "src/services/company.ts",
            '// returns any company\nexport interface Company {\n  name: string; // any name\n  label: "any";\n}\n',
        ),
        # Test files may use `any` freely.
        ("src/api/users.test.ts", "export function mock(x: any): any {\n  return x;\n}\n"),
    ],
)
def test_any_in_api_client_types_near_misses(path, text):
    assert review_text(path, text, only="typescript") == []


UNCHECKED_FETCH = """\
export async function loadUser(id: string) {
  const res = await fetch(`/api/users/${id}`);
  return res.json();
}

export const fetcher = (url: string) => fetch(url).then((r) => r.json());

export async function loadConfig() {
  return (await fetch("/config.json")).json();
}
"""


def test_unchecked_fetch_fires_when_the_body_is_read_without_a_check():
    findings = review_text("src/lib/users.ts", UNCHECKED_FETCH, only="typescript")
    assert [(f.rule, f.line) for f in findings] == [
        ("typescript.unchecked-fetch", 2),
        ("typescript.unchecked-fetch", 6),
        ("typescript.unchecked-fetch", 9),
    ]
    assert findings[0].severity is Severity.MEDIUM
    assert "`res`" in findings[0].rationale


@pytest.mark.parametrize(
    "body",
    [
        "  const res = await fetch(url);\n  if (!res.ok) throw new Error(`HTTP ${res.status}`);\n  return res.json();\n",
        "  try {\n    const res = await fetch(url);\n    return await res.json();\n  } catch (err) {\n    return null;\n  }\n",
        "  return fetch(url).then((r) => r.json()).catch(() => null);\n",
        "  const res = await fetch(url);\n  return handleResponse(res);\n",
        "  return fetch(url);\n",
        "  await fetch(url, { method: 'POST' });\n",
        "  // const res = await fetch(url); return res.json();\n  return null;\n",
    ],
)
def test_unchecked_fetch_near_misses(body):
    text = f"export async function load(url: string) {{\n{body}}}\n"
    assert review_text("src/lib/load.ts", text, only="typescript") == []


@pytest.mark.parametrize(
    ("line", "name"),
    [
        (
            "const key = process.env.NEXT_PUBLIC_SUPABASE_SERVICE_ROLE_KEY;",
            "NEXT_PUBLIC_SUPABASE_SERVICE_ROLE_KEY",
        ),
        (
            "const openai = new OpenAI({ apiKey: import.meta.env.VITE_OPENAI_API_KEY });",
            "VITE_OPENAI_API_KEY",
        ),
        (
            "const stripe = new Stripe(process.env.NEXT_PUBLIC_STRIPE_SECRET_KEY!);",
            "NEXT_PUBLIC_STRIPE_SECRET_KEY",
        ),
        ('const token = process.env["REACT_APP_GITHUB_TOKEN"];', "REACT_APP_GITHUB_TOKEN"),
        ("const pw = import.meta.env.PUBLIC_DB_PASSWORD;", "PUBLIC_DB_PASSWORD"),
        ("const { EXPO_PUBLIC_JWT_SECRET } = process.env;", "EXPO_PUBLIC_JWT_SECRET"),
    ],
)
def test_secret_in_public_env_fires(line, name):
    text = f"import x from 'y';\n{line}\n"
    findings = review_text("src/lib/clients.ts", text, only="typescript")
    assert [(f.rule, f.line, f.severity) for f in findings] == [
        ("typescript.secret-in-public-env", 2, Severity.HIGH)
    ]
    assert name in findings[0].rationale


@pytest.mark.parametrize(
    "line",
    [
        "const anon = process.env.NEXT_PUBLIC_SUPABASE_ANON_KEY;",
        "const api = import.meta.env.VITE_API_URL;",
        "const pk = process.env.NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY;",
        "const map = process.env.NEXT_PUBLIC_MAPBOX_ACCESS_TOKEN;",
        "const secret = process.env.STRIPE_SECRET_KEY;",
        '// never use process.env.NEXT_PUBLIC_JWT_SECRET\nconst name = "NEXT_PUBLIC_JWT_SECRET";',
        "const PUBLIC_SECRET_PATHS = ['/admin'];",
    ],
)
def test_secret_in_public_env_near_misses(line):
    assert review_text("src/lib/env.ts", f"{line}\n", only="typescript") == []


def test_console_log_fires_in_application_code():
    text = 'export function save(user) {\n  console.log("saving", user);\n  console.error("boom");\n  return user;\n}\n'
    findings = review_text("src/components/save.ts", text, only="typescript")
    assert [(f.rule, f.line, f.severity) for f in findings] == [
        ("typescript.console-log-left-in", 2, Severity.LOW)
    ]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("src/lib/save.ts", 'console.warn("deprecated");\nconsole.error("failed");\n'),
        ("src/lib/save.test.ts", 'console.log("debug in a test");\n'),
        ("scripts/seed.ts", 'console.log("seeded");\n'),
        ("vite.config.ts", 'console.log("building");\n'),
        ("bin/cli.js", 'console.log("usage: tool");\n'),
        ("src/cli.js", '#!/usr/bin/env node\nconsole.log("usage: tool");\n'),
        (
            "src/server.ts",
            "app.listen(port, () => {\n  console.log(`listening on ${port}`);\n});\n",
        ),
        (
            "src/lib/save.ts",
            'if (process.env.NODE_ENV !== "production") {\n  console.log("dev only");\n}\n',
        ),
        ("src/lib/save.ts", '// console.log("x")\nconst s = "console.log(y)";\n'),
    ],
)
def test_console_log_near_misses(path, text):
    assert review_text(path, text, only="typescript") == []


def test_only_added_lines_are_reported():
    old = 'export function a() {\n  console.log("old");\n  return 1;\n}\n'
    new = 'export function a() {\n  console.log("old");\n  console.log("new");\n  return 1;\n}\n'
    findings = review_text("src/lib/a.ts", new, old, only="typescript")
    assert [(f.rule, f.line) for f in findings] == [("typescript.console-log-left-in", 3)]


def test_inline_suppression():
    text = (
        'console.log("x");\n'
        "const a = 1;\n"
        'console.log("kept on purpose"); // code-assistant: ignore[typescript.console-log-left-in]\n'
    )
    findings = review_text("src/lib/a.ts", text, only="typescript")
    assert [(f.rule, f.line) for f in findings] == [("typescript.console-log-left-in", 1)]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "}}}{{((",
        "`${",
        "const a = '",
        "/*",
        "a = /[/",
        "\x00\ufffd",
        "export interface X { a: any",
        "fetch(",
    ],
)
def test_odd_input_never_raises(text):
    line_count = max(1, len(text.splitlines()))
    for old in (None, "x\n"):
        for finding in review_text("src/api/x.ts", text, old=old, only="typescript"):
            assert finding.rule.startswith("typescript.")
            assert 1 <= finding.line <= line_count


def test_deleted_and_unclaimed_files():
    assert review_text("src/api/x.ts", None, old='console.log("x")\n', only="typescript") == []
    assert rule_ids(review_text("src/api/x.py", 'console.log("x")\n', only="typescript")) == []
    assert review_text("node_modules/pkg/index.js", 'console.log("x")\n', only="typescript") == []


ENV_EXAMPLE = """\
# Public values only; NEXT_PUBLIC_STRIPE_SECRET_KEY would leak, so it is not here.
VITE_SUPABASE_URL=https://example.supabase.co
VITE_SUPABASE_ANON_KEY=
VITE_SUPABASE_SERVICE_ROLE_KEY=your-service-role-key
export NEXT_PUBLIC_OPENAI_API_KEY=
STRIPE_SECRET_KEY=
NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY=pk_test_
"""


@pytest.mark.parametrize("path", [".env.example", "apps/web/.env.local", "config/prod.env"])
def test_secret_in_public_env_reads_dotenv_files(path):
    findings = review_text(path, ENV_EXAMPLE, only="typescript")
    assert [(f.rule, f.line) for f in findings] == [
        ("typescript.secret-in-public-env", 4),
        ("typescript.secret-in-public-env", 5),
    ]
    assert "VITE_SUPABASE_SERVICE_ROLE_KEY" in findings[0].rationale


def test_dotenv_files_get_only_the_secret_check():
    text = 'NEXT_PUBLIC_API_URL=https://api.example.com\nDEBUG="console.log(fetch(x).then(r => r.json()))"\n'
    assert review_text(".env.development", text, only="typescript") == []
    assert review_text(".envrc", "export VITE_JWT_SECRET=x\n", only="typescript") == []


def test_any_in_wire_type_names_outside_api_paths():
    text = (
        "export interface ApiResponse<T = any> {\n  data: T;\n}\n"
        "export type CreateOrderRequest = { items: any[] };\n"
        "export interface WebhookPayload {\n  data: Record<string, any>;\n}\n"
        "export type ButtonProps = { onClick: (e: any) => void };\n"
        "export interface Settings {\n  extra: any;\n}\n"
    )
    findings = review_text("src/types/index.ts", text, only="typescript")
    assert [(f.rule, f.line) for f in findings] == [
        ("typescript.any-in-api-types", 1),
        ("typescript.any-in-api-types", 4),
        ("typescript.any-in-api-types", 6),
    ]


def test_any_opted_out_with_eslint_disable_is_respected():
    text = (
        "// eslint-disable-next-line @typescript-eslint/no-explicit-any -- arbitrary JSON\n"
        "export type JsonValue = any;\n"
        "export type Raw = any; // eslint-disable-line @typescript-eslint/no-explicit-any\n"
        "export type Other = any;\n"
    )
    findings = review_text("src/api/json.ts", text, only="typescript")
    assert [(f.rule, f.line) for f in findings] == [("typescript.any-in-api-types", 4)]


def test_console_table_dir_and_trace_count_as_debug_output():
    text = "export function f(rows) {\n  console.table(rows);\n  console.dir(rows);\n  console.trace();\n  console.info('x');\n}\n"
    findings = review_text("src/lib/f.ts", text, only="typescript")
    assert [(f.rule, f.line) for f in findings] == [
        ("typescript.console-log-left-in", 2),
        ("typescript.console-log-left-in", 3),
        ("typescript.console-log-left-in", 4),
    ]


@pytest.mark.parametrize(
    "text",
    [
        'export function f(x) {\n  process.env.NODE_ENV === "development" && console.log(x);\n}\n',
        "export function f(x) {\n  if (import.meta.env.DEV) console.log(x);\n}\n",
        "export function f(x) {\n  if (isDev)\n    console.debug(x);\n}\n",
        "app.listen(PORT);\nconsole.log(`Server running on http://localhost:${PORT}`);\n",
        "await server.start();\nconsole.log(`🚀 Server ready at http://localhost:4000/graphql`);\n",
    ],
)
def test_console_log_guarded_inline_or_startup_banner_is_exempt(text):
    assert review_text("src/server.ts", text, only="typescript") == []


def test_console_log_with_an_unrelated_condition_still_fires():
    text = 'export function f(x) {\n  if (x) console.log("payment started at", x);\n  return x && console.log(x);\n}\n'
    findings = review_text("src/lib/f.ts", text, only="typescript")
    assert [(f.rule, f.line) for f in findings] == [
        ("typescript.console-log-left-in", 2),
        ("typescript.console-log-left-in", 3),
    ]
