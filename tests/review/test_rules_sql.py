"""The sql pack: each rule on realistic firing cases and on its near-misses, plus statement
splitting, changed-line filtering, cross-file facts, suppression and odd input."""

from __future__ import annotations

import textwrap

import pytest
from rulekit import file_change, review, review_text

from code_assistant_lora.findings import Severity
from code_assistant_lora.review.rules.sql import PACK, sql_source

MIGRATION = "supabase/migrations/20240501120000_init.sql"


def sql(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def hits(text: str, rule: str | None = None, path: str = MIGRATION, old: str | None = None):
    found = review_text(path, sql(text), None if old is None else sql(old), only="sql")
    return [(f.rule, f.line, f.severity) for f in found if rule is None or f.rule == rule]


# --- paths ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "claimed"),
    [
        ("supabase/migrations/20240101000000_init.sql", True),
        ("migrations/0001_create_users.sql", True),
        ("db/schema.sql", True),
        ("prisma/migrations/20240101_init/migration.sql", True),
        ("supabase/schemas/profiles.sql", True),
        ("drizzle/0000_flat_tiger.SQL", True),
        ("sql/functions.pgsql", True),
        ("node_modules/some-lib/migrations/001.sql", False),
        ("vendor/pkg/schema.sql", False),
        ("supabase/tests/database/rls.test.sql", False),
        ("tests/fixtures/schema.sql", False),
        ("db/queries.sql.go", False),
        ("README.md", False),
    ],
)
def test_path_matching(path, claimed):
    assert PACK.matches(path) is claimed


# --- sql.table-without-rls ------------------------------------------------------------------------

TABLE_FIRING = [
    ("plain", "create table profiles (id uuid primary key);", 1),
    ("schema-qualified", "create table public.profiles (\n  id uuid primary key\n);", 1),
    ("if-not-exists", "CREATE TABLE IF NOT EXISTS public.todos (id bigint);", 1),
    ("quoted", 'create table "public"."Todos" ("id" bigint);', 1),
    ("unlogged", "create unlogged table public.cache (k text, v jsonb);", 1),
    (
        "create-table-as",
        "create table public.profiles_backup as\n  select * from public.profiles;",
        1,
    ),
    (
        "after-other-statements",
        "-- profiles\ncreate extension if not exists pgcrypto;\n\ncreate table\n  public.notes (id int);",
        4,
    ),
    (
        "rls-enabled-for-another-table",
        "create table a (id int);\ncreate table b (id int);\nalter table a enable row level security;",
        2,
    ),
    (
        "rls-in-another-schema",
        "create table public.items (id int);\nalter table private.items enable row level security;",
        1,
    ),
    ("api-schema", "create table api.orders (id int);", 1),
    (
        "comment-string-mentions-rls",
        "create table public.t (id int);\ncomment on table public.t is 'enable row level security later';",
        1,
    ),
    (
        "schema-granted-to-anon",
        "grant usage on schema app to anon;\ncreate table app.orders (id int);",
        2,
    ),
    (
        "inside-do-block",
        "do $$\nbegin\n  if not exists (select 1) then\n    create table public.t (id int);\n  end if;\nend $$;",
        4,
    ),
    (
        "policy-without-rls",
        "create table public.posts (id int, user_id uuid);\n"
        'create policy "own" on public.posts for select using (auth.uid() = user_id);',
        1,
    ),
]


@pytest.mark.parametrize(
    ("text", "line"), [c[1:] for c in TABLE_FIRING], ids=[c[0] for c in TABLE_FIRING]
)
def test_table_without_rls_fires(text, line):
    assert hits(text, "sql.table-without-rls") == [("sql.table-without-rls", line, Severity.HIGH)]


def test_findings_span_their_statement():
    text = (
        "create table public.profiles (\n  id uuid\n);\n"
        "alter table public.profiles disable row level security;\n"
        "create policy p on public.profiles\n  for update\n  using (true)\n  with check (true);\n"
    )
    found = review_text(MIGRATION, text, only="sql")
    assert [(f.rule, f.category, f.line, f.end_line) for f in found] == [
        ("sql.table-without-rls", "missing-row-level-security", 1, 3),
        ("sql.rls-disabled", "missing-row-level-security", 4, 4),
        ("sql.permissive-policy", "permissive-rls-policy", 7, 8),
    ]


def test_rls_lookup_matches_schema_when_both_sides_name_one():
    """RLS on `api.notes` does not cover `public.notes`; an unqualified switch covers either, and
    switches in other files of the change count."""
    other = file_change(
        "supabase/migrations/2_rls.sql", "alter table public.notes enable row level security;\n"
    )
    created = "create table public.notes (id int);\ncreate table public.tasks (id int);\n"
    tail = "alter table api.notes enable row level security;\nalter table tasks enable row level security;\n"
    assert hits(created + tail, "sql.table-without-rls") == [
        ("sql.table-without-rls", 1, Severity.HIGH)
    ]
    found = review(file_change(MIGRATION, created + tail), other, only="sql")
    assert [f.rule for f in found] == []


def test_table_without_rls_names_the_table():
    found = review_text(MIGRATION, 'create table "public"."Todos" (id int);\n', only="sql")
    assert '`"public"."Todos"`' in found[0].rationale
    assert "enable row level security" in found[0].suggested_fix


TABLE_NEAR_MISSES = [
    (
        "rls-enabled-later",
        "create table public.profiles (id uuid);\ncreate index on public.profiles (id);\n"
        "alter table public.profiles enable row level security;",
    ),
    (
        "rls-unqualified-vs-qualified",
        "create table public.profiles (id uuid);\nALTER TABLE profiles ENABLE ROW LEVEL SECURITY;",
    ),
    (
        "rls-qualified-vs-unqualified",
        "create table profiles (id uuid);\nalter table public.profiles enable row level security;",
    ),
    (
        "rls-if-exists-only-multiline",
        "create table if not exists public.todos (id int);\n"
        "alter   table if exists only\n   public.todos\n   enable   row level   security;",
    ),
    (
        "rls-quoted",
        'create table "public"."Todos" (id int);\nalter table public."Todos" enable row level security;',
    ),
    (
        "rls-with-force",
        "create table t (id int);\nalter table t enable row level security, force row level security;",
    ),
    (
        "rls-in-do-block",
        "create table t (id int);\ndo $$ begin alter table t enable row level security; end $$;",
    ),
    (
        "rls-dynamic",
        "create table a (id int);\ncreate table b (id int);\n"
        "do $$ declare r record; begin for r in select tablename from pg_tables "
        "where schemaname = 'public' loop\n"
        "  execute format('alter table %I enable row level security', r.tablename);\n"
        "end loop; end $$;",
    ),
    (
        "event-trigger-enables-rls",
        "create table a (id int);\n"
        "create function rls_auto_enable() returns event_trigger language plpgsql as $$\n"
        "declare cmd record; begin\n"
        "  for cmd in select * from pg_event_trigger_ddl_commands() loop\n"
        "    execute format('alter table %s enable row level security', cmd.object_identity);\n"
        "  end loop;\nend $$;",
    ),
    ("temporary", "create temporary table scratch (id int);\ncreate temp table s2 (id int);"),
    (
        "private-schema",
        "create schema if not exists private;\ncreate table private.secrets (k text);",
    ),
    ("internal-schema", "create table internal.jobs (id int);"),
    (
        "search-path-private",
        "set search_path to private;\ncreate table secrets (k text);",
    ),
    (
        "partition",
        "create table public.events_2024 partition of public.events for values in (2024);",
    ),
    ("foreign", "create foreign table public.remote (id int) server s;"),
    ("line-comment", "-- create table public.todo (id int);\nselect 1;"),
    (
        "nested-block-comment",
        "/*\n/* nested */;\ncreate table public.todo (id int);\n*/\nselect 1;",
    ),
    ("string", "insert into docs (body) values ('create table public.todo (id int);');"),
    (
        "function-body",
        "create function f() returns void language sql as $$ create table x (id int); $$;",
    ),
    ("create-view", "create view public.v as select 1;"),
    ("mysql", "CREATE TABLE `users` (`id` int unsigned NOT NULL AUTO_INCREMENT) ENGINE=InnoDB;"),
    (
        "sqlite",
        'CREATE TABLE "User" ("id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, "email" TEXT NOT NULL);',
    ),
]


@pytest.mark.parametrize(
    "text", [c[1] for c in TABLE_NEAR_MISSES], ids=[c[0] for c in TABLE_NEAR_MISSES]
)
def test_table_without_rls_near_misses(text):
    assert hits(text, "sql.table-without-rls") == []


def test_rls_enabled_in_another_file_of_the_change():
    create = file_change("supabase/migrations/1_tables.sql", "create table public.t (id int);\n")
    enable = file_change(
        "supabase/migrations/2_rls.sql", "alter table public.t enable row level security;\n"
    )
    assert review(create, enable, only="sql") == []
    assert [f.rule for f in review(create, only="sql")] == ["sql.table-without-rls"]


def test_unchanged_table_in_modified_file_does_not_fire():
    old = "create table public.legacy (id int);\n"
    new = old + "create index legacy_id on public.legacy (id);\n"
    assert hits(new, old=old) == []


def test_removing_rls_fires_on_the_unchanged_create_table():
    old = "create table public.t (\n  id int\n);\nalter table public.t enable row level security;\n"
    new = "create table public.t (\n  id int\n);\n"
    assert hits(new, old=old) == [("sql.table-without-rls", 1, Severity.HIGH)]


# --- sql.rls-disabled -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("alter table public.profiles disable row level security;", 1),
        ('select 1;\nALTER TABLE IF EXISTS\n  "public"."Todos"\n  DISABLE ROW LEVEL SECURITY;', 2),
        ("do $$ begin\n  alter table t disable row level security;\nend $$;", 2),
    ],
)
def test_rls_disabled_fires(text, line):
    assert hits(text, "sql.rls-disabled") == [("sql.rls-disabled", line, Severity.HIGH)]


@pytest.mark.parametrize(
    "text",
    [
        "-- alter table t disable row level security;\nselect 1;",
        "alter table t enable row level security;",
        "alter table t no force row level security;",
        "select 'alter table t disable row level security';",
    ],
)
def test_rls_disabled_near_misses(text):
    assert hits(text, "sql.rls-disabled") == []


# --- sql.permissive-policy ------------------------------------------------------------------------

POLICY_FIRING = [
    (
        "select-using-true",
        'create policy "Public profiles are viewable by everyone." on profiles\n  for select using ( true );',
        2,
        Severity.HIGH,
    ),
    (
        "select-to-anon",
        "create policy read_all on public.countries for select to anon, authenticated using (true);",
        1,
        Severity.HIGH,
    ),
    (
        "insert-with-check-true",
        'create policy "Anyone can insert" on public.todos\n  for insert\n  to anon\n  with check ((true));',
        4,
        Severity.HIGH,
    ),
    (
        "update-upper-case",
        'CREATE POLICY "upd" ON public.todos FOR UPDATE TO authenticated\nUSING (TRUE)\nWITH CHECK (TRUE);',
        2,
        Severity.HIGH,
    ),
    ("all-default", "create policy p on t using (true);", 1, Severity.HIGH),
    ("delete", "create policy p on t for delete to authenticated using (1 = 1);", 1, Severity.HIGH),
    (
        "permissive-explicit",
        "create policy p on t as permissive for all to public using (true) with check (true);",
        1,
        Severity.HIGH,
    ),
    ("alter-policy", "alter policy p on t using (true);", 1, Severity.HIGH),
    (
        "in-do-block",
        'do $$\nbegin\n  create policy "p" on public.t for insert\n    with check (true);\n'
        "exception when duplicate_object then null;\nend $$;",
        4,
        Severity.HIGH,
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "severity"), [c[1:] for c in POLICY_FIRING], ids=[c[0] for c in POLICY_FIRING]
)
def test_permissive_policy_fires(text, line, severity):
    assert hits(text, "sql.permissive-policy") == [("sql.permissive-policy", line, severity)]


def test_permissive_policy_names_policy_table_and_roles():
    text = (
        'create policy "Anyone can insert" on public.todos for insert to anon with check (true);\n'
    )
    (finding,) = review_text(MIGRATION, text, only="sql")
    assert '"Anyone can insert"' in finding.rationale
    assert "`public.todos`" in finding.rationale and "`anon`" in finding.rationale


SIGNED_IN_ONLY_FIRING = [
    (
        "auth-role",
        "create policy p on public.docs for update\n  using (auth.role() = 'authenticated');",
        2,
    ),
    (
        "auth-role-select-wrapped-reversed",
        "create policy p on docs for all to authenticated\n"
        "  using ('authenticated' = (select auth.role()))\n  with check (true);",
        2,
    ),
    (
        "uid-not-null",
        "create policy p on docs for delete to authenticated using (auth.uid() is not null);",
        1,
    ),
    (
        "uid-not-null-extra-parens-upper",
        "CREATE POLICY p ON docs FOR INSERT TO authenticated\nWITH CHECK (((SELECT auth.uid()) IS NOT NULL));",
        2,
    ),
]


@pytest.mark.parametrize(
    ("text", "line"),
    [c[1:] for c in SIGNED_IN_ONLY_FIRING],
    ids=[c[0] for c in SIGNED_IN_ONLY_FIRING],
)
def test_permissive_policy_fires_on_signed_in_only_checks(text, line):
    """A condition that only checks the caller is signed in is `true` for every user."""
    assert hits(text, "sql.permissive-policy") == [("sql.permissive-policy", line, Severity.HIGH)]


def test_signed_in_only_policy_says_every_signed_in_user():
    text = "create policy p on public.docs for update using (auth.role() = 'authenticated');\n"
    (finding,) = review_text(MIGRATION, text, only="sql")
    assert "`using (auth.role() = 'authenticated')`" in finding.rationale
    assert "every signed-in user" in finding.rationale


POLICY_NEAR_MISSES = [
    ("owner-check", "create policy p on t for select using (auth.uid() = user_id);"),
    ("role-anon", "create policy p on t for select using (auth.role() = 'anon');"),
    ("role-service", "create policy p on t for all using (auth.role() = 'service_role');"),
    (
        "uid-not-null-and-owner",
        "create policy p on t for delete using (auth.uid() is not null and owner_id = auth.uid());",
    ),
    ("uid-is-null", "create policy p on t for select to anon using (auth.uid() is null);"),
    (
        "signed-in-restrictive",
        "create policy p on t as restrictive for all to public using (auth.uid() is not null);",
    ),
    (
        "signed-in-comment",
        "-- create policy p on t using (auth.role() = 'authenticated');\nselect 1;",
    ),
    (
        "owner-check-select-wrapped",
        "create policy p on t for update to authenticated\n"
        "  using ((select auth.uid()) = user_id)\n  with check ((select auth.uid()) = user_id);",
    ),
    ("true-and-more", "create policy p on t for select using (true and is_published);"),
    ("true-or-more", "create policy p on t for select using ((true) or owner = auth.uid());"),
    (
        "service-role",
        "create policy p on t for all to service_role using (true) with check (true);",
    ),
    ("restrictive", "create policy p on t as restrictive for all to authenticated using (true);"),
    ("comment", "-- create policy p on t using (true);\nselect 1;"),
    ("string", "select 'create policy p on t using (true)';"),
    ("drop-policy", "drop policy if exists p on t;"),
]


@pytest.mark.parametrize(
    "text", [c[1] for c in POLICY_NEAR_MISSES], ids=[c[0] for c in POLICY_NEAR_MISSES]
)
def test_permissive_policy_near_misses(text):
    assert hits(text, "sql.permissive-policy") == []


# --- sql.broad-grant ------------------------------------------------------------------------------

GRANT_FIRING = [
    ("all-to-anon", "grant all on public.profiles to anon;", Severity.HIGH),
    (
        "all-privileges-table-to-anon",
        'GRANT ALL PRIVILEGES ON TABLE "public"."profiles" TO "anon";',
        Severity.HIGH,
    ),
    (
        "all-tables-to-authenticated",
        "grant all privileges on all tables in schema public to authenticated;",
        Severity.MEDIUM,
    ),
    ("writes-to-anon", "grant insert, update, delete on public.todos to anon;", Severity.HIGH),
    ("column-update-to-anon", "grant update (title) on public.todos to anon;", Severity.HIGH),
    ("writes-to-public", "grant delete on table public.todos to public;", Severity.HIGH),
    (
        "several-roles-worst-wins",
        "grant all on table public.todos to authenticated, anon, service_role;",
        Severity.HIGH,
    ),
    (
        "writes-all-tables-authenticated",
        "grant insert, update on all tables in schema public to authenticated;",
        Severity.MEDIUM,
    ),
    ("truncate-authenticated", "grant truncate on public.todos to authenticated;", Severity.MEDIUM),
    (
        "select-all-tables-anon",
        "grant select on all tables in schema public to anon;",
        Severity.MEDIUM,
    ),
    ("all-sequences-anon", "grant all on all sequences in schema public to anon;", Severity.HIGH),
    # EXECUTE is PUBLIC's by default: a schema-wide grant only undoes protective revokes
    (
        "all-on-functions-anon",
        "grant all on all functions in schema public to anon;",
        Severity.MEDIUM,
    ),
    (
        "execute-all-functions-anon",
        "grant execute on all functions in schema public to anon;",
        Severity.MEDIUM,
    ),
    (
        "default-execute-anon",
        "alter default privileges in schema public grant execute on functions to anon;",
        Severity.MEDIUM,
    ),
    ("create-on-schema-anon", "grant create on schema public to anon;", Severity.HIGH),
    (
        "default-privileges",
        "alter default privileges in schema public grant all on tables to anon;",
        Severity.HIGH,
    ),
    (
        "in-do-block",
        "do $$ begin\n  grant all on public.todos to anon;\nend $$;",
        Severity.HIGH,
    ),
]


@pytest.mark.parametrize(
    ("text", "severity"), [c[1:] for c in GRANT_FIRING], ids=[c[0] for c in GRANT_FIRING]
)
def test_broad_grant_fires(text, severity):
    line = 2 if text.startswith("do $$") else 1
    assert hits(text, "sql.broad-grant") == [("sql.broad-grant", line, severity)]


def test_broad_grant_multiline_reports_the_grant_line():
    text = "select 1;\n\ngrant all\n  on all tables in schema public\n  to anon;\n"
    assert hits(text, "sql.broad-grant") == [("sql.broad-grant", 3, Severity.HIGH)]


GRANT_NEAR_MISSES = [
    ("select-specific-table", "grant select on public.countries to anon;"),
    ("usage-on-schema", "grant usage on schema public to anon, authenticated, service_role;"),
    (
        "writes-specific-table-authenticated",
        "grant select, insert, update on public.todos to authenticated;",
    ),
    (
        "revoke",
        "revoke all on public.profiles from anon;\nrevoke insert on all tables in schema public from anon;",
    ),
    (
        "revoke-default",
        "alter default privileges in schema public revoke all on tables from anon;",
    ),
    ("service-role", "grant all on all tables in schema public to service_role;"),
    ("execute-function", "grant execute on function public.search(text) to anon;"),
    (
        "execute-all-functions-authenticated",
        "grant execute on all functions in schema public to authenticated;",
    ),
    ("revoke-execute-all-functions", "revoke execute on all functions in schema public from anon;"),
    (
        "sequence-usage",
        "grant usage, select on all sequences in schema public to anon, authenticated;",
    ),
    ("role-membership", "grant anon to authenticator;"),
    ("comment", "-- grant all on public.profiles to anon;\nselect 1;"),
    ("other-role", "grant all on public.profiles to reporting;"),
]


@pytest.mark.parametrize(
    "text", [c[1] for c in GRANT_NEAR_MISSES], ids=[c[0] for c in GRANT_NEAR_MISSES]
)
def test_broad_grant_near_misses(text):
    assert hits(text, "sql.broad-grant") == []


CUSTOM_ROLE_FIRING = [
    (
        "all-on-all-tables",
        "grant all privileges on all tables in schema public to metabase_ro;",
        Severity.HIGH,
    ),
    (
        "all-on-all-tables-custom-app-role",
        "grant all on all tables in schema app to app_user;",
        Severity.HIGH,
    ),
    (
        "default-privileges-all",
        "alter default privileges in schema public grant all on tables to etl_worker;",
        Severity.HIGH,
    ),
    (
        "writes-to-read-only-named-role",
        "grant select, insert, update, delete on all tables in schema public to reporting;",
        Severity.HIGH,
    ),
    (
        "truncate-all-tables",
        "grant select, truncate on all tables in schema public to sync_job;",
        Severity.HIGH,
    ),
    (
        "writes-all-tables-app-role",
        "grant select, insert, update, delete on all tables in schema public to app_user;",
        Severity.MEDIUM,
    ),
    (
        "owner-of-another-schema",
        "create schema billing authorization billing_owner_role;\n"
        "grant all on all tables in schema public to billing_owner_role;",
        Severity.HIGH,
    ),
]


@pytest.mark.parametrize(
    ("text", "severity"),
    [c[1:] for c in CUSTOM_ROLE_FIRING],
    ids=[c[0] for c in CUSTOM_ROLE_FIRING],
)
def test_broad_grant_to_custom_role_fires(text, severity):
    line = text.count("\n") + 1
    assert hits(text, "sql.broad-grant") == [("sql.broad-grant", line, severity)]


def test_broad_grant_to_custom_role_names_the_role():
    found = review_text(
        MIGRATION, "grant all on all tables in schema public to metabase_ro;\n", None, only="sql"
    )
    assert len(found) == 1
    assert "`metabase_ro`" in found[0].rationale
    assert "select" in found[0].suggested_fix


CUSTOM_ROLE_NEAR_MISSES = [
    ("named-table-all", "grant all on table public.profiles to metabase_ro;"),
    ("named-tables-writes", "grant insert, update on public.events, public.jobs to etl_worker;"),
    ("read-only-all-tables", "grant select on all tables in schema public to metabase_ro;"),
    (
        "read-only-default-privileges",
        "alter default privileges in schema public grant select on tables to metabase_ro;",
    ),
    ("usage-on-schema", "grant usage on schema public to metabase_ro;"),
    ("sequences", "grant usage, select on all sequences in schema public to etl_worker;"),
    ("postgres", "grant all on all tables in schema public to postgres;"),
    ("supabase-admin", "grant all on all tables in schema auth to supabase_auth_admin;"),
    ("admin-named", "grant all on all tables in schema app to app_admin;"),
    ("owner-named", "alter default privileges in schema app grant all on tables to app_owner;"),
    (
        "schema-owner",
        "create schema if not exists billing authorization billing_svc;\n"
        "grant all on all tables in schema billing to billing_svc;",
    ),
    (
        "schema-owner-altered",
        "alter schema billing owner to billing_svc;\n"
        "grant all on all tables in schema billing to billing_svc;",
    ),
    (
        "default-privileges-for-the-owner",
        "alter default privileges for role etl in schema staging grant all on tables to etl;",
    ),
    (
        "revoke",
        "revoke all on all tables in schema public from metabase_ro;\n"
        "alter default privileges in schema public revoke all on tables from metabase_ro;",
    ),
    ("role-membership", "grant metabase_ro to analyst_alice;"),
    ("comment", "-- grant all on all tables in schema public to metabase_ro;\nselect 1;"),
]


@pytest.mark.parametrize(
    "text", [c[1] for c in CUSTOM_ROLE_NEAR_MISSES], ids=[c[0] for c in CUSTOM_ROLE_NEAR_MISSES]
)
def test_broad_grant_to_custom_role_near_misses(text):
    assert hits(text, "sql.broad-grant") == []


# --- sql.security-definer-search-path -----------------------------------------------------------

HANDLE_NEW_USER = """
create or replace function public.handle_new_user()
returns trigger
language plpgsql
security definer
as $$
begin
  insert into public.profiles (id, full_name)
  values (new.id, new.raw_user_meta_data->>'full_name');
  return new;
end;
$$;
"""


def test_definer_without_search_path_fires_on_create_line_spanning_the_clause():
    (finding,) = review_text(MIGRATION, sql(HANDLE_NEW_USER), only="sql")
    assert (finding.rule, finding.line, finding.end_line, finding.severity) == (
        "sql.security-definer-search-path",
        1,
        4,
        Severity.HIGH,
    )
    assert "`public.handle_new_user`" in finding.rationale


@pytest.mark.parametrize(
    "text",
    [
        "create function f() returns int language sql security definer as $$ select 1 $$;",
        "CREATE OR REPLACE FUNCTION f() RETURNS int AS $fn$ SELECT 1 $fn$ LANGUAGE sql SECURITY DEFINER;",
        "create procedure p() language plpgsql security definer as $$ begin null; end $$;",
        "create function f() returns int language sql external security definer as 'select 1';",
        "alter function public.f(int) security definer;",
        # a search_path set inside the body does not pin the function's own
        "create function f() returns void language plpgsql security definer as $$\n"
        "begin set search_path = ''; end $$;",
        # a session-level search_path before the function does not either
        "set search_path = public;\ncreate function f() returns int language sql security definer as $$ select 1 $$;",
    ],
)
def test_definer_without_search_path_variants_fire(text):
    found = hits(text, "sql.security-definer-search-path")
    assert [(rule, severity) for rule, _, severity in found] == [
        ("sql.security-definer-search-path", Severity.HIGH)
    ]


DEFINER_NEAR_MISSES = [
    (
        "fixed-empty",
        HANDLE_NEW_USER.replace("security definer\n", "security definer set search_path = ''\n"),
    ),
    (
        "fixed-public-pg-temp",
        "create function f() returns int language sql security definer\n"
        "  set search_path = public, pg_temp as $$ select 1 $$;",
    ),
    (
        "fixed-after-body",
        "create function f() returns int as $$ select 1 $$ language sql security definer SET search_path TO public;",
    ),
    (
        "pg-dump-quoted",
        'CREATE FUNCTION "public"."f"() RETURNS "trigger"\n    LANGUAGE "plpgsql" SECURITY DEFINER\n'
        "    SET \"search_path\" TO ''\n    AS $$ begin return new; end; $$;",
    ),
    ("invoker", "create function f() returns int language sql security invoker as $$ select 1 $$;"),
    ("default-invoker", "create function f() returns int language sql as $$ select 1 $$;"),
    (
        "fixed-by-later-alter",
        "create function public.f() returns int language sql security definer as $$ select 1 $$;\n"
        "alter function public.f() set search_path = '';",
    ),
    (
        "alter-to-definer-of-fixed-function",
        "create function f() returns int language sql set search_path = '' as $$ select 1 $$;\n"
        "alter function f() security definer;",
    ),
    (
        "definer-in-body-string",
        "create function f() returns text language sql as $$ select 'security definer' $$;",
    ),
    (
        "comment",
        "-- create function f() returns int security definer as $$ select 1 $$;\nselect 1;",
    ),
]


@pytest.mark.parametrize(
    "text", [c[1] for c in DEFINER_NEAR_MISSES], ids=[c[0] for c in DEFINER_NEAR_MISSES]
)
def test_definer_near_misses(text):
    assert hits(text, "sql.security-definer-search-path") == []


def test_definer_fixed_in_another_file_of_the_change():
    create = file_change(
        "supabase/migrations/1_fn.sql",
        "create function public.f() returns int language sql security definer as $$ select 1 $$;\n",
    )
    fix = file_change(
        "supabase/migrations/2_fix.sql", "alter function public.f() set search_path = '';\n"
    )
    assert review(create, fix, only="sql") == []


def test_changing_invoker_to_definer_in_place_fires_on_the_changed_line():
    old = sql(HANDLE_NEW_USER).replace("security definer", "security invoker")
    assert hits(HANDLE_NEW_USER, path="supabase/schemas/users.sql", old=old) == [
        ("sql.security-definer-search-path", 4, Severity.HIGH)
    ]


# --- sql.drop-without-if-exists -------------------------------------------------------------------

DROP_FIRING = [
    ("table", "drop table public.old_todos;", 1),
    ("table-cascade", "DROP TABLE old_todos CASCADE;", 1),
    ("column", "alter table public.profiles drop column legacy;", 1),
    ("column-keyword-omitted", "alter table profiles drop legacy;", 1),
    ("column-table-if-exists", "alter table if exists profiles drop column legacy;", 1),
    (
        "second-action",
        "alter table profiles\n  add column bio text,\n  drop column legacy;",
        3,
    ),
    ("constraint", 'ALTER TABLE "Post" DROP CONSTRAINT "Post_authorId_fkey";', 1),
    ("index", "drop index public.todos_user_id_idx;", 1),
    ("index-concurrently", "drop index concurrently todos_user_id_idx;", 1),
    ("view", "drop view public.active_todos;", 1),
    ("materialized-view", "drop materialized view stats;", 1),
    ("function", "drop function public.handle_new_user();", 1),
    ("schema", "drop schema legacy cascade;", 1),
    ("type", "drop type public.status;", 1),
    ("policy", 'drop policy "Users can view own" on public.todos;', 1),
    ("trigger", "drop trigger on_auth_user_created on auth.users;", 1),
    ("sequence", "drop sequence todos_id_seq;", 1),
    ("role", "drop role reporting_user;", 1),
    ("after-comment", "-- clean up\n\ndrop table old_stuff;", 3),
]


@pytest.mark.parametrize(
    ("text", "line"), [c[1:] for c in DROP_FIRING], ids=[c[0] for c in DROP_FIRING]
)
def test_drop_without_if_exists_fires(text, line):
    assert hits(text, "sql.drop-without-if-exists") == [
        ("sql.drop-without-if-exists", line, Severity.MEDIUM)
    ]


def test_drop_rationale_and_fix_name_the_object():
    (finding,) = review_text(MIGRATION, "drop table public.old_todos;\n", only="sql")
    assert "`drop table public.old_todos`" in finding.rationale
    assert "drop table if exists public.old_todos" in finding.suggested_fix


DROP_NEAR_MISSES = [
    ("table-if-exists", "drop table if exists public.old_todos;"),
    ("index-concurrently-if-exists", "drop index concurrently if exists todos_idx;"),
    ("policy-if-exists", 'DROP POLICY IF EXISTS "Users can view own" ON public.todos;'),
    ("column-if-exists", "alter table profiles drop column if exists legacy;"),
    ("if-exists-without-column-keyword", "alter table profiles drop if exists legacy;"),
    ("constraint-if-exists", "alter table x drop constraint if exists x_fk;"),
    (
        "alter-column-drop-default",
        "alter table x alter column y drop default, alter column z drop not null;",
    ),
    ("comment", "-- drop table users;\n/* drop table users; */\nselect 1;"),
    ("string", "insert into audit (sql) values ('drop table users');"),
    (
        "function-body",
        "create function f() returns void language plpgsql as $$ begin drop table t; end $$;",
    ),
    (
        "guarded-in-do-block",
        "do $$ begin\n  if exists (select 1 from pg_policies where policyname = 'p') then\n"
        "    drop policy p on t;\n  end if;\nend $$;",
    ),
    ("revoke", "revoke all on t from anon;"),
    ("user-mapping-if-exists", "drop user mapping if exists for postgres server remote;"),
]


@pytest.mark.parametrize(
    "text", [c[1] for c in DROP_NEAR_MISSES], ids=[c[0] for c in DROP_NEAR_MISSES]
)
def test_drop_near_misses(text):
    assert hits(text, "sql.drop-without-if-exists") == []


def test_drop_in_a_pg_dump_is_not_flagged():
    text = "--\n-- PostgreSQL database dump\n--\n\nDROP TABLE public.todos;\n"
    assert hits(text, "sql.drop-without-if-exists", path="db/structure.sql") == []


# --- statements, changed lines, suppression -------------------------------------------------------

TRICKY = """
insert into notes values (E'it\\'s ; create table public.x (id int); drop table y');
create function public.f()
returns void
language plpgsql
set search_path = ''
as $fn$
declare
  q text := $$ drop table x; create table y (id int); $$;
begin
  -- ; create table z (id int);
  raise notice 'it''s ; grant all on t to anon';
  raise notice E'back\\'slash ; drop table w';
end;
$fn$;
create table public.after_body (id int);
"""


def test_bodies_strings_and_comments_do_not_split_statements():
    source = sql_source(sql(TRICKY))
    assert len(source.statements) == 3
    assert hits(TRICKY) == [("sql.table-without-rls", 15, Severity.HIGH)]


CLEAN_MIGRATION = """
-- Profiles, readable by everyone, writable by their owner.
create table if not exists public.profiles (
  id uuid primary key references auth.users on delete cascade,
  username text unique,
  updated_at timestamptz default now()
);

alter table public.profiles enable row level security;

drop policy if exists "Users can update own profile." on public.profiles;
create policy "Users can update own profile." on public.profiles
  for update to authenticated
  using ((select auth.uid()) = id)
  with check ((select auth.uid()) = id);

create policy "Users can insert their own profile." on public.profiles
  for insert to authenticated
  with check ((select auth.uid()) = id);

create or replace function public.handle_new_user()
returns trigger
language plpgsql
security definer set search_path = ''
as $$
begin
  insert into public.profiles (id, username)
  values (new.id, new.raw_user_meta_data ->> 'username');
  return new;
end;
$$;

drop trigger if exists on_auth_user_created on auth.users;
create trigger on_auth_user_created
  after insert on auth.users
  for each row execute procedure public.handle_new_user();

grant usage on schema public to anon, authenticated;
grant select on public.profiles to anon;
grant select, insert, update on public.profiles to authenticated;
revoke all on public.profiles from public;

alter table public.profiles drop column if exists legacy_avatar;
create index if not exists profiles_username_idx on public.profiles (username);
"""


def test_clean_migration_has_no_findings():
    assert hits(CLEAN_MIGRATION) == []


def test_only_statements_touching_changed_lines_fire():
    old = "drop table a;\ncreate policy p on t for delete using (true);\n"
    new = old + "drop table b;\n"
    assert hits(new, old=old) == [("sql.drop-without-if-exists", 3, Severity.MEDIUM)]


def test_changed_line_inside_a_statement_reports_that_line():
    old = "grant select\n  on public.todos\n  to authenticated;\n"
    new = "grant select, delete\n  on public.todos\n  to anon;\n"
    assert hits(new, old=old) == [("sql.broad-grant", 1, Severity.HIGH)]
    new_only_role = "grant delete\n  on public.todos\n  to anon;\n"
    old_only_role = "grant delete\n  on public.todos\n  to service_role;\n"
    assert hits(new_only_role, old=old_only_role) == [("sql.broad-grant", 3, Severity.HIGH)]


def test_policy_clause_changed_to_true_fires_on_that_line():
    old = "create policy p on t\n  for delete\n  using (auth.uid() = user_id);\n"
    new = "create policy p on t\n  for delete\n  using (true);\n"
    assert hits(new, old=old) == [("sql.permissive-policy", 3, Severity.HIGH)]


def test_inline_suppression():
    text = (
        "-- code-assistant: ignore[sql.permissive-policy]\n"
        "create policy read_all on public.countries for select using (true);\n"
        "create policy read_all2 on public.cities for select using (true);\n"
    )
    assert hits(text, "sql.permissive-policy") == [("sql.permissive-policy", 3, Severity.HIGH)]


@pytest.mark.parametrize(
    "text",
    [
        "",
        ";;;",
        "create table",
        "create table public.",
        "create policy",
        "create policy p on t using (",
        "grant all on",
        "grant all on t to",
        "alter table x drop",
        "drop table",
        "do $$",
        "do $$ begin create table x (id int); end",
        "'unterminated ; create table x (id int);",
        "/* unterminated create table x (id int);",
        "E'\\",
        "$tag$ never closed",
        "\x00\ufffd create table t (id int);",
        "\ufffd\ufffd;drop\ufffd table;",
        "create function f() security definer",
        "(((((((((",
    ],
)
def test_odd_input_never_raises(text):
    line_count = max(1, len(text.splitlines()))
    for old in (None, "x\n"):
        for finding in review_text("db/migrations/odd.sql", text, old=old, only="sql"):
            assert finding.rule.startswith("sql.")
            assert 1 <= finding.line <= line_count
