"""The sql rule pack: Postgres / Supabase migrations.

Files: `*.sql` and `*.pgsql` anywhere (Supabase `supabase/migrations/` and declarative
`supabase/schemas/`, plain `migrations/` and `db/` folders, Prisma and Drizzle migrations, schema
files), except vendored folders (`node_modules/`, `vendor/`, `third_party/`, virtualenvs) and test
code (`tests/`, `test/`, `__tests__/`, `spec/` folders and `*.test.sql` / `*_test.sql` / `*.spec.sql`
files, such as pgTAP suites, whose setup SQL legitimately creates bare tables and helper functions).
Every rule applies to all claimed files rather than to migration folders only: Supabase
declarative schemas and hand-run setup scripts deploy the same objects. Two exceptions: MySQL /
SQLite / T-SQL files (backtick identifiers, `ENGINE=`, `AUTO_INCREMENT`, `AUTOINCREMENT`, `PRAGMA`,
`DATETIME` columns, ...) are not checked for row level security, which they do not have; and
`pg_dump` output (`-- PostgreSQL database dump`) is not checked for `drop` without `if exists`.

Each file is read once (cached on its text) into statements: `--` and nested `/* */` comments are
blanked, single-quoted strings (also `E'...'` with backslash escapes) and dollar-quoted bodies
(`$$ ... $$`, `$tag$ ... $tag$`) keep their delimiters but lose their contents, so neither
comments, strings nor function bodies can split a statement or fire a rule; every offset is kept,
so a statement maps back to its lines. The body of a `DO` block is read again as PL/pgSQL
statements (control words such as `begin`, `if ... then`, `exception when ... then` are skipped),
because migrations wrap `create policy`, grants and RLS switches in `DO` blocks; drops inside a
`DO` block are usually guarded by an existence test and are not checked. Statements are matched
case-insensitively; identifiers are compared case-insensitively with their quotes removed.

Rules:

* `sql.table-without-rls`: a `create table` (also `if not exists`, `unlogged`, `create table ...
  as select`, which makes a real table too) in an exposed schema without `alter table ... enable
  row level security` for it anywhere in the same file or in another SQL file of the same change.
  Exposed schemas: unqualified names (or the first schema of a preceding `set search_path`),
  `public`, `api`, `graphql_public`, and any schema the file grants to `anon` / `authenticated`
  / `public`. Temporary, foreign and partition tables, and tables in other schemas (`private`,
  `internal`, ...), are not exposed through the Data API and are skipped. A change that enables
  RLS from code (`execute format('alter table %I enable row level security', ...)` in a `DO` block
  or in a function body, such as an event trigger that switches RLS on for every new table) is
  trusted for every table.
  When a change removes the `enable row level security` of a table whose `create table` stays,
  the finding is reported on that `create table` line even though the line itself is unchanged.
* `sql.rls-disabled`: `alter table ... disable row level security` (same category as a table
  created without RLS: either way the table is open).
* `sql.permissive-policy`: `create policy` / `alter policy` whose `using (...)` or `with check
  (...)` is just `true` (any parentheses and whitespace, or `1 = 1`), or only checks that the
  caller is signed in (`auth.role() = 'authenticated'`, `auth.uid() is not null`, also with
  `(select auth.uid())`), which is `true` for every signed-in user. High for every command,
  `for select` included: a public read of a whole table is exactly the leak RLS exists to
  prevent (invoices, profiles with e-mails), and the rare deliberately public catalogue is better
  marked with an inline `code-assistant: ignore[sql.permissive-policy]`. Restrictive
  policies (a `true` restricts nothing, it opens nothing either) and policies only for
  `service_role` / `postgres` / `supabase_admin` (which bypass RLS anyway) are skipped. An
  `alter policy` without `for` is treated as `for all` (its command is not in view).
* `sql.broad-grant`: table privileges handed to API roles. High: `all` or any write privilege
  (`insert`, `update`, `delete`, `truncate`) on tables, or `all` on sequences, to `anon` or
  `public`; `all` / `create` on a schema or database to them. Medium: the same `all` grants to
  `authenticated`, write privileges to `authenticated` on every table of a schema, `truncate`
  (which RLS does not cover) to `authenticated`, and `select` on every table of a schema to
  `anon`, and `execute` (or `all`) on every function of a schema to `anon` / `public` (EXECUTE
  is PUBLIC's by default, so such a grant only undoes the revokes that protect sensitive
  functions). `alter default privileges ... grant` counts as a grant on every future object.
  Custom roles (a dashboard's `metabase_ro`, an ETL login, an app role): `all` on every table of a
  schema (or on its future tables through `alter default privileges`) is high, and so are write
  privileges on every table when they include `truncate` or the role's name says it only reads
  (`*_ro`, `readonly`, `reporting`, `analytics`, `metabase`, ...); other write privileges on every
  table are medium. Admin roles are skipped: `service_role`, `postgres`, `supabase_admin`,
  `supabase_*_admin`, cloud superuser roles, names ending in `_admin` / `_owner` / `_dba` /
  `_migrator`, the schema's owner (`create schema s authorization r`, `alter schema s owner to r`
  in the file) and the `for role` of `alter default privileges`.
  Not flagged: `select` on named tables, `usage` on a schema, `execute` on named functions or
  to `authenticated`, `usage, select` on sequences, grants to `service_role`, grants of named
  tables or of `select` only to custom roles, and `revoke`.
* `sql.security-definer-search-path`: `create function|procedure ... security definer` (or an
  `alter function ... security definer`) without `set search_path ...` in its definition, either
  before or after the body, and without a later `alter function <name> ... set search_path` in
  the file or the change. Reported on the `create` line, spanning to the `security definer`
  clause.
* `sql.drop-without-if-exists`: `drop table|view|materialized view|index|function|procedure|
  schema|type|domain|policy|trigger|sequence|extension|role|database|...` and `alter table ...
  drop [column] ...` / `drop constraint ...` without `if exists`: the migration fails wherever
  the object is already gone, so it cannot be re-run or applied to a drifted database.

A finding lands on the line where its statement or offending clause starts: the `create table`
line, the `using (true)` / `with check (true)` line, the `grant` line, the `create function` line,
the `drop` (or `alter table ... drop` clause) line; its end line is the statement's last line (for
a function, the `security definer` line, not the end of its body). When that line is unchanged but another line
of the same statement changed, the first changed line of the statement is used instead, so a
statement the change touches is reported and one it leaves alone is not. The exception is
`sql.table-without-rls`, which only reports a `create table` line the change adds (a column added
to an old table is not a new table), or the removal of its RLS switch described above.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from ...findings import Severity
from ..rule import FileUnderReview, Hit, ReviewContext, Rule, RulePack

# --- paths ----------------------------------------------------------------------------------------

_SUFFIXES = (".sql", ".pgsql")
_VENDORED = frozenset(
    {"node_modules", "vendor", "vendored", "third_party", "bower_components", ".venv", "venv"}
)
_TEST_DIRS = frozenset({"tests", "test", "__tests__", "spec"})
_TEST_NAME = re.compile(r"[._-](?:test|spec)\.(?:sql|pgsql)$")


@lru_cache(maxsize=4096)
def _claims(path: str) -> bool:
    lowered = path.lower()
    if not lowered.endswith(_SUFFIXES):
        return False
    *folders, name = lowered.split("/")
    if _VENDORED.intersection(folders) or "site-packages" in folders:
        return False
    return not (_TEST_DIRS.intersection(folders) or _TEST_NAME.search(name))


# --- lexing ---------------------------------------------------------------------------------------

_TOKEN = re.compile(r"--|/\*|'|\"|;|\$(?:[^\W\d]\w*)?\$")
_BLOCK = re.compile(r"/\*|\*/")
_STRING = re.compile(r"'[^']*(?:''[^']*)*'?")
_E_STRING = re.compile(r"'[^'\\]*(?:(?:\\.|'')[^'\\]*)*'?", re.S)
_QUOTED_IDENT = re.compile(r'"[^"]*(?:""[^"]*)*"?')
_NOT_NEWLINE = re.compile(r"[^\n]")


def _blank(text: str) -> str:
    return _NOT_NEWLINE.sub(" ", text)


@dataclass(frozen=True)
class Statement:
    """One statement: `code` is its masked text from its first keyword (file offset `start`) up
    to its terminating `;`; `nested` marks statements read from the body of a `DO` block."""

    start: int
    code: str
    nested: bool = False

    @property
    def end(self) -> int:
        return self.start + len(self.code)


@dataclass
class _Lexed:
    code: str
    spans: list[tuple[int, int]]  # statement spans (offsets into code)
    literals: list[tuple[int, int, bool]]  # contents of strings/dollar bodies; True for dollar


def _lex(text: str) -> _Lexed:
    """Blank comments and literal contents (keeping every offset), and split at top-level `;`."""
    pieces: list[str] = []
    spans: list[tuple[int, int]] = []
    literals: list[tuple[int, int, bool]] = []
    length = len(text)
    pos = statement_start = 0
    while pos < length:
        match = _TOKEN.search(text, pos)
        if match is None:
            break
        start, token = match.start(), match.group()
        pieces.append(text[pos:start])
        if token == ";":
            pieces.append(";")
            spans.append((statement_start, start))
            pos = statement_start = start + 1
        elif token == "--":
            end = text.find("\n", start)
            end = length if end < 0 else end
            pieces.append(_blank(text[start:end]))
            pos = end
        elif token == "/*":
            depth, end = 1, length
            for mark in _BLOCK.finditer(text, start + 2):
                depth += 1 if mark.group() == "/*" else -1
                if depth == 0:
                    end = mark.end()
                    break
            pieces.append(_blank(text[start:end]))
            pos = end
        elif token == '"':
            end = _QUOTED_IDENT.match(text, start).end()
            pieces.append(text[start:end])
            pos = end
        elif token == "'":
            escaped = (
                start > 0
                and text[start - 1] in "eE"
                and (start < 2 or not (text[start - 2].isalnum() or text[start - 2] in "_$"))
            )
            end = (_E_STRING if escaped else _STRING).match(text, start).end()
            closed = end - start >= 2 and text[end - 1] == "'"
            inner_end = end - 1 if closed else end
            pieces.append("'" + _blank(text[start + 1 : inner_end]) + ("'" if closed else ""))
            literals.append((start + 1, inner_end, False))
            pos = end
        else:  # a dollar quote, unless the `$` continues an identifier (`foo$bar$`)
            if start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_$"):
                pieces.append("$")
                pos = start + 1
                continue
            close = text.find(token, match.end())
            inner_end = length if close < 0 else close
            end = length if close < 0 else close + len(token)
            pieces.append(token + _blank(text[match.end() : inner_end]) + text[inner_end:end])
            literals.append((match.end(), inner_end, True))
            pos = end
    pieces.append(text[pos:])
    if statement_start < length:
        spans.append((statement_start, length))
    return _Lexed("".join(pieces), spans, literals)


_META_LINE = re.compile(r"\s*(?:\\[^\n]*)?")  # psql meta-commands (`\connect db`)
_PLPGSQL_PREFIX = re.compile(
    r"\s*(?:<<\w+>>|declare\b|begin\b|then\b|else\b|loop\b|end\s+(?:if|loop|case)\b"
    r"|(?:if|elsif|elseif|when)\b.*?\bthen\b|exception\s+when\b.*?\bthen\b"
    r"|(?:for|foreach|while)\b.*?\bloop\b)",
    re.I | re.S,
)
_DO = re.compile(r"do\b", re.I)


def _statements(lexed: _Lexed, base: int, nested: bool) -> Iterator[Statement]:
    code = lexed.code
    for start, end in lexed.spans:
        pos = start
        while True:  # skip psql meta lines (and, in PL/pgSQL, control words) before the command
            step = _META_LINE.match(code, pos, end).end()
            if nested:
                prefix = _PLPGSQL_PREFIX.match(code, step, end)
                step = prefix.end() if prefix else step
            if step == pos:
                break
            pos = step
        body = code[pos:end].rstrip()
        if body:
            yield Statement(base + pos, body, nested)


# --- names ----------------------------------------------------------------------------------------

_IDENT = r'(?:"[^"]*(?:""[^"]*)*"|[^\W\d][\w$]*)'
_QNAME = rf"{_IDENT}(?:\s*\.\s*{_IDENT}){{0,2}}"
_IDENT_RE = re.compile(_IDENT)


def _ident(raw: str) -> str:
    raw = raw.strip()
    if raw.startswith('"'):
        raw = raw[1:-1] if raw.endswith('"') and len(raw) > 1 else raw[1:]
        raw = raw.replace('""', '"')
    return raw.lower()


def _qname(raw: str) -> tuple[str | None, str]:
    """(schema or None, name) of a possibly qualified, possibly quoted name."""
    parts = [_ident(part) for part in _IDENT_RE.findall(raw)]
    if not parts:
        return None, ""
    return (parts[-2] if len(parts) > 1 else None), parts[-1]


def _shown(raw: str) -> str:
    """A name as written, whitespace around dots removed, for messages."""
    return _DOT_SPACES.sub(".", raw.strip())


# --- the parsed file ------------------------------------------------------------------------------

_CREATE_TABLE = re.compile(
    rf"create\s+(?:or\s+replace\s+)?(?:(?:global|local)\s+)?"
    rf"(?:(temp|temporary|unlogged|foreign)\s+)?table\s+(?:if\s+not\s+exists\s+)?({_QNAME})(?!\s*\.)",
    re.I,
)
_PARTITION_OF = re.compile(r"\s*partition\s+of\b", re.I)
_ALTER_TABLE = re.compile(rf"alter\s+table\s+(?:if\s+exists\s+)?(?:only\s+)?({_QNAME})\s*\*?", re.I)
_ENABLE_RLS = re.compile(r"\benable\s+row\s+level\s+security\b", re.I)
_DISABLE_RLS = re.compile(r"\bdisable\s+row\s+level\s+security\b", re.I)
_SET_SEARCH_PATH_STMT = re.compile(
    r"set\s+(?:session\s+|local\s+)?(?:search_path|\"search_path\")\s*(?:=|\bto\b)\s*(.*)",
    re.I | re.S,
)
_CREATE_FUNCTION = re.compile(
    rf"create\s+(?:or\s+replace\s+)?(function|procedure)\s+({_QNAME})", re.I
)
_ALTER_FUNCTION = re.compile(rf"alter\s+(function|procedure|routine)\s+({_QNAME})", re.I)
_DEFINER = re.compile(r"\b(?:external\s+)?security\s+definer\b", re.I)
_SEARCH_PATH = re.compile(r"\bset\s+(?:search_path\b|\"search_path\")", re.I)
_GRANT = re.compile(r"grant\b", re.I)
_REVOKE = re.compile(r"\brevoke\b", re.I)
_DOT_SPACES = re.compile(r"\s*\.\s*")
_DEFAULT_PRIVILEGES = re.compile(r"alter\s+default\s+privileges\b.*?\b(grant\b)", re.I | re.S)
_GRANT_ON = re.compile(r"\son\s", re.I)
_GRANT_TO = re.compile(r"\sto\s", re.I)
_ALL_IN_SCHEMA = re.compile(
    r"all\s+(tables|sequences|functions|procedures|routines)\s+in\s+schema\b"
)
_IN_SCHEMA = re.compile(rf"\bin\s+schema\s+({_IDENT}(?:\s*,\s*{_IDENT})*)", re.I)
_SCHEMA_TARGET = re.compile(r"\bschema\s+(.+)$", re.I)
_GROUP = re.compile(r"^\s*group\s+", re.I)
_FOR_ROLE = re.compile(rf"\bfor\s+(?:role|user)\s+({_IDENT}(?:\s*,\s*{_IDENT})*)", re.I)
_SCHEMA_OWNER = re.compile(
    rf"(?:create\s+schema\s+(?:if\s+not\s+exists\s+)?({_IDENT})?\s*authorization\s+({_IDENT})"
    rf"|alter\s+schema\s+({_IDENT})\s+owner\s+to\s+({_IDENT}))",
    re.I,
)
_GRANT_TAIL = re.compile(
    r"\bwith\s+grant\s+option\b|\bgranted\s+by\b|\bwith\s+\w+\s+option\b", re.I
)
_PARENS = re.compile(r"\([^()]*\)")
_DUMP_MARK = "PostgreSQL database dump"
_NOT_POSTGRES = re.compile(
    r"`|\bengine\s*=|\bauto_increment\b|\bautoincrement\b|\bunsigned\b|\bpragma\b"
    r"|\bnvarchar\b|\bdatetime\s*(?:not\b|null\b|default\b|,|\))",
    re.I,
)
_RLS_WORDS = re.compile(r"enable\s+row\s+level\s+security", re.I)
_DEFAULT_EXPOSED = frozenset({"public", "api", "graphql_public"})
_API_ROLES = frozenset({"anon", "authenticated", "public"})


@dataclass(frozen=True)
class Grant:
    statement: Statement
    privileges: frozenset[str]  # lower-case privilege words, or {"all"}
    kind: str  # table | sequence | schema | database | function | other
    broad: bool  # every object of a schema (or default privileges)
    target: str
    roles: tuple[str, ...]
    schemas: tuple[str, ...] = ()  # the schemas of a schema-wide / default-privileges grant
    owners: tuple[str, ...] = ()  # `alter default privileges for role x`: x owns the objects


@dataclass
class SqlSource:
    text: str
    statements: list[Statement] = field(default_factory=list)
    newlines: list[int] = field(default_factory=list)
    postgres: bool = True
    dump: bool = False
    # RLS switched on by code the file runs (`execute` in a DO block, an event-trigger function):
    # trust every table
    dynamic_rls: bool = False
    rls_enabled: set[tuple[str | None, str]] = field(default_factory=set)
    # functions given a fixed search_path by `alter function f ... set search_path` / by their
    # `create function f ... set search_path ...` definition
    search_path_altered: set[str] = field(default_factory=set)
    search_path_created: set[str] = field(default_factory=set)
    exposed_schemas: set[str] = field(default_factory=set)
    grants: list[Grant] = field(default_factory=list)
    # schema -> roles that own it (`create schema s authorization r`, `alter schema s owner to r`)
    schema_owners: dict[str, set[str]] = field(default_factory=dict)

    def line(self, offset: int) -> int:
        return bisect_left(self.newlines, offset) + 1

    def span(self, statement: Statement) -> range:
        return range(self.line(statement.start), self.line(statement.end - 1) + 1)


def _parse_grant(statement: Statement) -> Grant | None:
    code = statement.code
    default = _DEFAULT_PRIVILEGES.match(code)
    if default:
        if _REVOKE.search(code, 0, default.start(1)):
            return None
        code = code[default.start(1) :]
    elif not _GRANT.match(code):
        return None
    for _ in range(4):  # blank column lists and signatures: `update (a, b)`, `f(numeric(10, 2))`
        blanked = _PARENS.sub(lambda m: " " * len(m.group()), code)
        if blanked == code:
            break
        code = blanked
    on = _GRANT_ON.search(code)
    to = _GRANT_TO.search(code, on.end() - 1) if on else None
    if on is None or to is None:
        return None
    privileges_text = code[5 : on.start()]  # after `grant`
    target, roles_text = code[on.end() : to.start()], code[to.end() :]
    words = [p.split()[0].lower() for p in privileges_text.split(",") if p.split()]
    privileges = frozenset({"all"} if words and words[0] == "all" else words)
    target = " ".join(target.split())
    lowered = target.lower()
    all_in = _ALL_IN_SCHEMA.match(lowered)
    first = lowered.split(" ", 1)[0]
    broad = bool(all_in) or bool(default)
    noun = all_in.group(1) if all_in else first
    if noun in ("tables", "table"):
        kind = "table"
    elif noun in ("sequences", "sequence"):
        kind = "sequence"
    elif noun in ("schema", "schemas"):
        kind = "schema"
    elif noun == "database":
        kind = "database"
    elif noun in ("functions", "function", "procedures", "procedure", "routines", "routine"):
        kind = "function"
    elif noun in (
        "types",
        "type",
        "domain",
        "language",
        "foreign",
        "large",
        "tablespace",
        "parameter",
    ):
        kind = "other"
    else:
        kind = "table" if not default else "other"
    if kind == "table" and not broad and first == "table":
        target = target[len(first) :].strip()
    schemas: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    if default:
        schema = _IN_SCHEMA.search(statement.code)
        target = f"future {lowered}" + (f" in schema {_shown(schema.group(1))}" if schema else "")
        if schema:
            schemas = tuple(_ident(name) for name in _IDENT_RE.findall(schema.group(1)))
        if for_role := _FOR_ROLE.search(statement.code, 0, default.start(1)):
            owners = tuple(_ident(name) for name in _IDENT_RE.findall(for_role.group(1)))
    elif all_in and (schema := _SCHEMA_TARGET.search(target)):
        schemas = tuple(_ident(name) for name in _IDENT_RE.findall(schema.group(1)))
    roles_text = roles_text[: m.start()] if (m := _GRANT_TAIL.search(roles_text)) else roles_text
    roles = tuple(_ident(_GROUP.sub("", role)) for role in roles_text.split(",") if role.strip())
    return Grant(statement, privileges, kind, broad, target, roles, schemas, owners)


@lru_cache(maxsize=256)
def sql_source(text: str) -> SqlSource:
    """The file's statements (top level, then each `DO` body's) and what they establish."""
    source = SqlSource(text=text)
    source.newlines = [match.start() for match in re.finditer("\n", text)]
    source.dump = _DUMP_MARK in text[:4000]
    lexed = _lex(text)
    source.postgres = not _NOT_POSTGRES.search(lexed.code)
    strings: list[tuple[int, int]] = []
    do_bodies: set[tuple[int, int]] = set()
    for statement in _statements(lexed, 0, nested=False):
        source.statements.append(statement)
        if not _DO.match(statement.code):
            continue
        for start, end, dollar in lexed.literals:
            if dollar and statement.start <= start and end <= statement.end:
                inner = _lex(text[start:end])
                source.statements.extend(_statements(inner, start, nested=True))
                strings.extend((start + s, start + e) for s, e, _ in inner.literals)
                do_bodies.add((start, end))
                break
    # function bodies (top-level single-quoted strings are data and comments, not code)
    strings.extend((s, e) for s, e, dollar in lexed.literals if dollar and (s, e) not in do_bodies)
    source.dynamic_rls = any(_RLS_WORDS.search(text, s, e) for s, e in strings)
    for statement in source.statements:
        code = statement.code
        alter = _ALTER_TABLE.match(code)
        if alter and _ENABLE_RLS.search(code, alter.end()):
            source.rls_enabled.add(_qname(alter.group(1)))
        created = _CREATE_FUNCTION.match(code)
        altered = _ALTER_FUNCTION.match(code)
        if (created or altered) and _SEARCH_PATH.search(code):
            names = source.search_path_created if created else source.search_path_altered
            names.add(_qname((created or altered).group(2))[1])
        owner = _SCHEMA_OWNER.match(code)
        if owner:
            role_name = owner.group(2) or owner.group(4)
            # `create schema authorization r` names the schema after its owner
            schema_name = owner.group(3) if owner.group(4) else owner.group(1) or role_name
            source.schema_owners.setdefault(_ident(schema_name), set()).add(_ident(role_name))
        grant = _parse_grant(statement)
        if grant is not None:
            source.grants.append(grant)
            if _API_ROLES.intersection(grant.roles):
                schema = _SCHEMA_TARGET.search(grant.target)
                if schema and grant.kind in ("schema", "table", "sequence"):
                    source.exposed_schemas.update(
                        _ident(name) for name in _IDENT_RE.findall(schema.group(1))
                    )
    return source


@dataclass(frozen=True)
class _Facts:
    """What the change's SQL files establish together."""

    rls_enabled: dict[str, set[str | None]]  # indexed by table name, see `_by_name`
    search_path_altered: frozenset[str]
    search_path_created: frozenset[str]
    dynamic_rls: bool


@lru_cache(maxsize=8)
def _changeset(texts: tuple[str, ...]) -> _Facts:
    sources = [sql_source(text) for text in texts]
    return _Facts(
        _by_name(frozenset().union(*(s.rls_enabled for s in sources))),
        frozenset().union(*(s.search_path_altered for s in sources)),
        frozenset().union(*(s.search_path_created for s in sources)),
        any(s.dynamic_rls for s in sources),
    )


_last_changeset: list[tuple[object, _Facts]] = []  # [(the context's file list, its facts)]


def _changeset_facts(context: ReviewContext) -> _Facts:
    """The facts of the context's SQL files, computed once per review (the engine passes the
    same context, and so the same file list, to every check)."""
    files = context.files
    cached = _last_changeset[0] if _last_changeset else None
    if cached is not None and cached[0] is files:
        return cached[1]
    facts = _changeset(
        tuple(f.text for f in files if f.text and "\x00" not in f.text and _claims(f.path))
    )
    _last_changeset[:] = [(files, facts)]
    return facts


def _source(file: FileUnderReview) -> SqlSource | None:
    if not file.text or "\x00" in file.text:
        return None
    return sql_source(file.text)


def _pick(file: FileUnderReview, preferred: Iterable[int], fallback: Iterable[int]) -> int | None:
    """The line to report: the first changed preferred line, else the first changed line of the
    statement; None when the change does not touch the statement."""
    for number in preferred:
        if file.is_changed(number):
            return number
    for number in fallback:
        if file.is_changed(number):
            return number
    return None


def _by_name(enabled: Iterable[tuple[str | None, str]]) -> dict[str, set[str | None]]:
    """RLS switches indexed by table name (schemas per name), for constant-time lookups."""
    index: dict[str, set[str | None]] = {}
    for other_schema, other in enabled:
        index.setdefault(other, set()).add(other_schema)
    return index


def _has_rls(schema: str | None, name: str, *enabled: dict[str, set[str | None]]) -> bool:
    for index in enabled:
        schemas = index.get(name)
        if schemas and (schema is None or None in schemas or schema in schemas):
            return True
    return False


# --- sql.table-without-rls ------------------------------------------------------------------------


def check_table_without_rls(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    source = _source(file)
    if source is None or not source.postgres:
        return
    facts = _changeset_facts(context)
    if facts.dynamic_rls or source.dynamic_rls:
        return
    own = _by_name(source.rls_enabled)
    exposed = _DEFAULT_EXPOSED | source.exposed_schemas
    removed: dict[str, set[str | None]] = {}
    if not file.is_new and file.removed_text:
        removed = _by_name(sql_source("\n".join(file.removed_text)).rls_enabled)
    default_schema = "public"
    for statement in source.statements:
        code = statement.code
        if not statement.nested:
            search_path = _SET_SEARCH_PATH_STMT.match(code)
            if search_path:
                names = [
                    _ident(n)
                    for n in _IDENT_RE.findall(search_path.group(1))
                    if _ident(n) != "$user"
                ]
                default_schema = names[0] if names else default_schema
                continue
        create = _CREATE_TABLE.match(code)
        if create is None or _PARTITION_OF.match(code, create.end()):
            continue
        if create.group(1) and create.group(1).lower() != "unlogged":
            continue
        schema, name = _qname(create.group(2))
        if not name or (schema or default_schema) not in exposed:
            continue
        if _has_rls(schema, name, facts.rls_enabled, own):
            continue
        number = source.line(statement.start)
        table = _shown(create.group(2))
        if file.is_changed(number):
            yield Hit(
                number,
                end_line=source.span(statement)[-1],
                rationale=f"The table `{table}` is created without `alter table {table} enable row "
                "level security` in this migration: in Supabase every table in an exposed schema is "
                "readable and writable through the Data API with the public anon key until RLS is "
                "enabled.",
                suggested_fix=f"Add `alter table {table} enable row level security;` right after the "
                "`create table`, then add policies for the access each role needs (e.g. "
                f"`create policy ... on {table} for select to authenticated using ((select auth.uid()) = user_id);`).",
            )
        elif _has_rls(schema, name, removed):
            yield Hit(
                number,
                end_line=source.span(statement)[-1],
                anywhere=True,
                rationale=f"This change removes `enable row level security` for the table `{table}`, "
                "which is created here: without it the table is open through the Data API to anyone "
                "with the public anon key.",
                suggested_fix=f"Keep `alter table {table} enable row level security;` next to the "
                "`create table`.",
            )


# --- sql.rls-disabled -----------------------------------------------------------------------------


def check_rls_disabled(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    source = _source(file)
    if source is None or not source.postgres:
        return
    for statement in source.statements:
        alter = _ALTER_TABLE.match(statement.code)
        if alter is None:
            continue
        clause = _DISABLE_RLS.search(statement.code, alter.end())
        if clause is None:
            continue
        number = _pick(
            file,
            (source.line(statement.start), source.line(statement.start + clause.start())),
            source.span(statement),
        )
        if number is not None:
            table = _shown(alter.group(1))
            yield Hit(
                number,
                end_line=source.span(statement)[-1],
                rationale=f"Row level security is disabled on `{table}`: its policies stop applying "
                "and every role with table privileges (in Supabase, `anon` and `authenticated` "
                "through the Data API) can read and change every row.",
                suggested_fix=f"Keep RLS enabled on `{table}` and express the access you need as "
                "policies; for server-side jobs use the `service_role` key, which bypasses RLS.",
            )


# --- sql.permissive-policy ------------------------------------------------------------------------

_POLICY = re.compile(rf"(?:create|alter)\s+policy\s+({_IDENT})\s+on\s+({_QNAME})", re.I)
_POLICY_CLAUSE = re.compile(r"\b(using|with\s+check)\s*\(", re.I)
_POLICY_AS = re.compile(r"\bas\s+(permissive|restrictive)\b", re.I)
_POLICY_FOR = re.compile(r"\bfor\s+(all|select|insert|update|delete)\b", re.I)
_POLICY_TO = re.compile(r"\bto\s+(.+)$", re.I | re.S)
_TRUE_CLAUSE = re.compile(
    r"\b(using|with\s+check)\s*((?:\(\s*)+)(?:true|1\s*=\s*1)\s*((?:\)\s*)+)", re.I
)
# a clause whose whole condition is "the caller is signed in": `auth.role() = 'authenticated'`
# (either side, optionally `(select auth.role())`) or `auth.uid() is not null`
_AUTH_CALL = r"(?:\(\s*select\s+auth\s*\.\s*{0}\s*\(\s*\)\s*\)|auth\s*\.\s*{0}\s*\(\s*\))"
_SIGNED_IN = re.compile(
    rf"(?:{_AUTH_CALL.format('role')}\s*=\s*'(\s*)'|'(\s*)'\s*=\s*{_AUTH_CALL.format('role')}"
    rf"|{_AUTH_CALL.format('uid')}\s+is\s+not\s+null)",
    re.I,
)


def _closing_paren(code: str, open_at: int) -> int | None:
    """The offset of the `)` matching the `(` at `open_at` (strings are already blanked)."""
    depth = 0
    for pos in range(open_at, len(code)):
        char = code[pos]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return pos
    return None


def _signed_in_only(code: str, raw: str, open_at: int) -> str | None:
    """The condition of the clause whose `(` is at `open_at`, as written, when all it checks is
    that the caller is signed in; None otherwise."""
    close = _closing_paren(code, open_at)
    if close is None:
        return None
    left, right = open_at + 1, close
    while True:  # trim whitespace and redundant outer parentheses: `((auth.uid() is not null))`
        while left < right and code[left].isspace():
            left += 1
        while right > left and code[right - 1].isspace():
            right -= 1
        if left < right and code[left] == "(" and _closing_paren(code, left) == right - 1:
            left, right = left + 1, right - 1
            continue
        break
    match = _SIGNED_IN.fullmatch(code, left, right)
    if match is None:
        return None
    group = 1 if match.group(1) is not None else 2 if match.group(2) is not None else 0
    if group and raw[match.start(group) : match.end(group)].strip().lower() != "authenticated":
        return None
    return " ".join(raw[left:right].split())


_TRUSTED_ROLES = frozenset({"service_role", "postgres", "supabase_admin", "supabase_auth_admin"})


def check_permissive_policy(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    source = _source(file)
    if source is None:
        return
    for statement in source.statements:
        code = statement.code
        policy = _POLICY.match(code)
        if policy is None:
            continue
        first_clause = _POLICY_CLAUSE.search(code, policy.end())
        head = code[policy.end() : first_clause.start() if first_clause else len(code)]
        as_ = _POLICY_AS.search(head)
        if as_ and as_.group(1).lower() == "restrictive":
            continue
        command_match = _POLICY_FOR.search(head)
        command = command_match.group(1).lower() if command_match else "all"
        roles_match = _POLICY_TO.search(head)
        roles = (
            {_ident(r) for r in roles_match.group(1).split(",") if r.strip()}
            if roles_match
            else {"public"}
        )
        if roles and roles <= _TRUSTED_ROLES:
            continue
        open_clauses = [
            (statement.start + clause.start(), " ".join(clause.group(1).lower().split()))
            for clause in _TRUE_CLAUSE.finditer(code, policy.end())
            if clause.group(2).count("(") == clause.group(3).count(")")
        ]
        raw = source.text[statement.start : statement.end]
        signed_in = [
            (statement.start + clause.start(), f"{kind} ({condition})")
            for clause in _POLICY_CLAUSE.finditer(code, policy.end())
            if (condition := _signed_in_only(code, raw, clause.end() - 1))
            and (kind := " ".join(clause.group(1).lower().split()))
        ]
        open_clauses = sorted(
            [(offset, f"{kind} (true)") for offset, kind in open_clauses] + signed_in
        )
        if not open_clauses:
            continue
        number = _pick(
            file, [source.line(offset) for offset, _ in open_clauses], source.span(statement)
        )
        if number is None:
            continue
        name = policy.group(1)
        table = _shown(policy.group(2))
        who = (
            "everyone (`public`, including `anon`)"
            if "public" in roles
            else ", ".join(f"`{role}`" for role in sorted(roles))
        )
        which = " and ".join(f"`{shown}`" for shown in dict.fromkeys(k for _, k in open_clauses))
        if len(signed_in) == len(open_clauses):  # only "is signed in" checks
            who = "every signed-in user"
        verb = {"select": "read", "all": "read and change"}.get(command, command)
        yield Hit(
            number,
            end_line=source.span(statement)[-1],
            rationale=f"The policy {name} on `{table}` (for {command}) uses {which}: it lets "
            f"{who} {verb} every row, so row level security protects nothing here.",
            suggested_fix="Restrict the policy to the rows the caller owns, e.g. `using ((select "
            "auth.uid()) = user_id)` / `with check ((select auth.uid()) = user_id)`, and scope it "
            "with `to authenticated`; keep `using (true)` only for deliberately public, read-only "
            "data.",
        )


# --- sql.broad-grant ------------------------------------------------------------------------------

_WRITE_PRIVILEGES = frozenset({"insert", "update", "delete", "truncate"})


def _grant_severity(grant: Grant, role: str) -> tuple[Severity, str] | None:
    """How bad one grant is for one role, and what it hands out; None when it is fine."""
    anon = role in ("anon", "public")
    privileges = grant.privileges
    everything = "all" in privileges
    writes = sorted(privileges & _WRITE_PRIVILEGES)
    if grant.kind == "table":
        if everything:
            return (Severity.HIGH if anon else Severity.MEDIUM), "all privileges"
        if writes and anon:
            return Severity.HIGH, ", ".join(writes)
        if writes and (grant.broad or "truncate" in privileges):
            return Severity.MEDIUM, ", ".join(writes)
        if anon and grant.broad and "select" in privileges:
            return Severity.MEDIUM, "select"
        return None
    if grant.kind == "sequence":
        return (
            ((Severity.HIGH if anon else Severity.MEDIUM), "all privileges") if everything else None
        )
    if grant.kind == "function":
        # EXECUTE is PUBLIC's by default, so the only effect of a schema-wide (or default) grant
        # to anon is to undo the revokes that protect sensitive (security definer) functions
        if anon and grant.broad and (everything or "execute" in privileges):
            return Severity.MEDIUM, "execute"
        return None
    if grant.kind in ("schema", "database") and (everything or "create" in privileges):
        what = "all privileges" if everything else "create"
        return (Severity.HIGH if anon else Severity.MEDIUM), what
    return None


# roles that administer the database (and bypass RLS or own the objects anyway)
_ADMIN_ROLES = frozenset(
    {
        "service_role",
        "postgres",
        "supabase_admin",
        "rds_superuser",
        "cloudsqlsuperuser",
        "azure_pg_admin",
        "current_user",
        "current_role",
        "session_user",
    }
)
_ADMIN_NAME = re.compile(r"(?:^|_)(?:admin|owner|dba|superuser|migrator|migrations)$")
# names of roles meant to read only: dashboards, BI tools, replicas, auditors
_READ_ONLY_NAME = re.compile(
    r"(?:^|_)(?:ro|readonly|read_only|reader|readers|read|viewer|viewers|report|reports"
    r"|reporting|analytics|analyst|analysts|bi|metabase|grafana|superset|looker|redash"
    r"|tableau|dashboard|dashboards|audit|auditor|replica|replication|stats)(?:_|$)"
)


def _custom_role_severity(
    grant: Grant, role: str, schema_owners: dict[str, set[str]]
) -> tuple[Severity, str] | None:
    """How bad a grant to a custom (non-API, non-admin) role is: `all` or write privileges on
    every table of a schema (or on its future tables) hand a login role the power to change or
    wipe everything there, far more than a dashboard, a replica or a worker needs."""
    if grant.kind != "table" or not grant.broad or role in _ADMIN_ROLES or role in grant.owners:
        return None
    if _ADMIN_NAME.search(role) or (role.startswith("supabase_") and role.endswith("_admin")):
        return None
    if any(role in schema_owners.get(schema, ()) for schema in grant.schemas):
        return None
    privileges = grant.privileges
    if "all" in privileges:
        return Severity.HIGH, "all privileges"
    writes = sorted(privileges & _WRITE_PRIVILEGES)
    if not writes:
        return None
    severity = (
        Severity.HIGH
        if "truncate" in privileges or _READ_ONLY_NAME.search(role)
        else Severity.MEDIUM
    )
    return severity, ", ".join(writes)


def check_broad_grant(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    source = _source(file)
    if source is None:
        return
    for grant in source.grants:
        worst: tuple[Severity, str, str] | None = None
        for role in grant.roles:
            if role not in _API_ROLES:
                graded = _custom_role_severity(grant, role, source.schema_owners)
            else:
                graded = _grant_severity(grant, role)
            if graded and (worst is None or graded[0].rank > worst[0].rank):
                worst = (graded[0], graded[1], role)
        if worst is None:
            continue
        statement = grant.statement
        number = _pick(file, (source.line(statement.start),), source.span(statement))
        if number is None:
            continue
        severity, what, role = worst
        target = grant.target if len(grant.target) <= 80 else grant.target[:77] + "..."
        who = (
            "unauthenticated clients (the public anon key)"
            if role in ("anon", "public")
            else "every signed-in user"
            if role == "authenticated"
            else "this role (and every client or tool that logs in with it)"
        )
        if role not in _API_ROLES:
            yield Hit(
                number,
                end_line=source.span(statement)[-1],
                severity=severity,
                rationale=f"`grant {what}` on `{target}` to `{role}` hands {who} the power to "
                "change or wipe every table of the schema, including tables created later: "
                "a leaked credential or a buggy query can destroy data that it only needed to "
                "read (or not touch at all).",
                suggested_fix=f"Grant `{role}` only what it uses: `select` on the tables it reads "
                f"(e.g. `grant select on all tables in schema public to {role}`), and write "
                "privileges on the specific tables it must change.",
            )
            continue
        yield Hit(
            number,
            end_line=source.span(statement)[-1],
            severity=severity,
            rationale=f"`grant {what}` on `{target}` to `{role}` hands {who} more than the API needs: "
            + (
                "every table without RLS becomes readable through the Data API."
                if what == "select"
                else "it re-opens every function in the schema to them through `rpc()`, undoing "
                "any `revoke execute` that protected a sensitive (security definer) function."
                if grant.kind == "function"
                else "with RLS missing or a permissive policy anywhere, they can change or wipe "
                "the data directly through the Data API."
            ),
            suggested_fix=f"Grant only the privileges `{role}` actually uses on the specific tables "
            "(e.g. `grant select on public.countries to anon`), keep RLS enabled with policies, "
            "and leave broad access to `service_role`.",
        )


# --- sql.security-definer-search-path -----------------------------------------------------------


def check_definer_search_path(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    source = _source(file)
    if source is None:
        return
    facts = _changeset_facts(context)
    altered = facts.search_path_altered | source.search_path_altered
    created = facts.search_path_created | source.search_path_created
    for statement in source.statements:
        if statement.nested:
            continue
        code = statement.code
        function = _CREATE_FUNCTION.match(code) or _ALTER_FUNCTION.match(code)
        if function is None:
            continue
        definer = _DEFINER.search(code, function.end())
        if definer is None or _SEARCH_PATH.search(code, function.end()):
            continue
        schema, name = _qname(function.group(2))
        creating = function.re is _CREATE_FUNCTION
        if name in altered or (not creating and name in created):
            continue
        start_line = source.line(statement.start)
        definer_line = source.line(statement.start + definer.start())
        number = _pick(file, (start_line, definer_line), source.span(statement))
        if number is None:
            continue
        kind = function.group(1).lower()
        shown = _shown(function.group(2))
        yield Hit(
            number,
            end_line=max(number, definer_line),
            rationale=f"The {kind} `{shown}` runs as `security definer` (with its owner's "
            "privileges) but does not pin `search_path`: a caller who can create objects in a "
            "schema on the path can shadow the tables, operators or functions it uses and run "
            "code as the owner.",
            suggested_fix="Add `set search_path = ''` to the definition (next to `security definer`) "
            "and schema-qualify every object in the body (e.g. `public.profiles`), or at least "
            "`set search_path = public, pg_temp`; prefer `security invoker` when definer rights "
            "are not needed.",
        )


# --- sql.drop-without-if-exists -------------------------------------------------------------------

_DROP_START = re.compile(r"(?:drop|alter\s+table)\b", re.I)
_DROP = re.compile(
    r"drop\s+(materialized\s+view|foreign\s+table|event\s+trigger|table|view|index|function|"
    r"procedure|routine|aggregate|schema|type|domain|policy|trigger|sequence|extension|rule|"
    r"publication|database|role|user\s+mapping|user)\b"
    r"\s*(?:concurrently\b\s*)?(if\s+exists\b)?",
    re.I,
)
_DROP_TARGET = re.compile(rf"\s*({_QNAME})")
_DROP_ACTION = re.compile(
    rf"\s*(drop)\s+(?:(column|constraint)\b\s*)?(if\s+exists\b)?\s*({_IDENT})?", re.I
)


def _actions(code: str, start: int) -> Iterator[int]:
    """Start offsets of the comma-separated actions of an `alter table` from `start`."""
    yield start
    depth = 0
    for pos in range(start, len(code)):
        char = code[pos]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth <= 0:
            yield pos + 1


def _unguarded_drops(statement: Statement) -> Iterator[tuple[int, str, str, str]]:
    """(offset in the statement, `alter table x ` or "", object kind, name) for each drop
    without `if exists`."""
    code = statement.code
    drop = _DROP.match(code)
    if drop is not None:
        target = _DROP_TARGET.match(code, drop.end())
        if not drop.group(2) and target:
            yield 0, "", " ".join(drop.group(1).lower().split()), _shown(target.group(1))
        return
    alter = _ALTER_TABLE.match(code)
    if alter is None or "drop" not in code.lower():
        return
    table = _shown(alter.group(1))
    for offset in _actions(code, alter.end()):
        action = _DROP_ACTION.match(code, offset)
        if action is None or action.group(3) or not action.group(4):
            continue
        name = action.group(4)
        if name.lower() in ("if", "column", "constraint"):
            continue
        kind = (action.group(2) or "column").lower()
        yield action.start(1), f"alter table {table} ", kind, name


def check_drop_without_if_exists(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    source = _source(file)
    if source is None or source.dump:
        return
    for statement in source.statements:
        if statement.nested or not _DROP_START.match(statement.code):
            continue
        for offset, prefix, kind, name in _unguarded_drops(statement):
            number = _pick(
                file,
                (source.line(statement.start + offset), source.line(statement.start)),
                source.span(statement),
            )
            if number is None:
                continue
            shown = f"{prefix}drop {kind} {name}".rstrip()
            fixed = f"{prefix}drop {kind} if exists {name}".rstrip()
            yield Hit(
                number,
                end_line=source.span(statement)[-1],
                rationale=f"`{shown}` has no `if exists`: the migration fails on any database where "
                "the object is already gone (a re-run, a reset branch, a drifted environment), and "
                "everything else in the migration is rolled back with it.",
                suggested_fix=f"Write `{fixed}`.",
            )
            break


# --- the pack -------------------------------------------------------------------------------------

PACK = RulePack(
    name="sql",
    matches=_claims,
    checks=(
        (
            Rule(
                id="sql.table-without-rls",
                category="missing-row-level-security",
                severity=Severity.HIGH,
                rationale="A table created in an exposed schema without row level security is "
                "readable and writable by anyone holding the public anon key through the Supabase "
                "Data API.",
                suggested_fix="Add `alter table <table> enable row level security;` in the same "
                "migration and write policies for the access each role needs.",
            ),
            check_table_without_rls,
        ),
        (
            Rule(
                id="sql.rls-disabled",
                category="missing-row-level-security",
                severity=Severity.HIGH,
                rationale="Disabling row level security turns every policy off: each role with "
                "table privileges can read and change every row through the Data API.",
                suggested_fix="Keep RLS enabled and add policies for the access you need; use the "
                "`service_role` key for trusted server-side work.",
            ),
            check_rls_disabled,
        ),
        (
            Rule(
                id="sql.permissive-policy",
                category="permissive-rls-policy",
                severity=Severity.HIGH,
                rationale="A policy whose `using` / `with check` is `true` lets every role it "
                "names touch every row, which defeats row level security.",
                suggested_fix="Compare the row with the caller, e.g. `using ((select auth.uid()) = "
                "user_id)`, and scope the policy `to authenticated`.",
            ),
            check_permissive_policy,
        ),
        (
            Rule(
                id="sql.broad-grant",
                category="excessive-grant",
                severity=Severity.HIGH,
                rationale="Broad table privileges for the API roles `anon` / `authenticated` leave "
                "row level security as the only barrier between the public API and the data; "
                "`all` on every table for a custom login role lets it change or wipe everything.",
                suggested_fix="Grant only the privileges each role uses, on specific tables (e.g. "
                "`grant select on public.countries to anon`).",
            ),
            check_broad_grant,
        ),
        (
            Rule(
                id="sql.security-definer-search-path",
                category="security-definer-search-path",
                severity=Severity.HIGH,
                rationale="A `security definer` function without a fixed `search_path` resolves "
                "names through the caller's path, so a caller can hijack it and run code with the "
                "owner's privileges.",
                suggested_fix="Add `set search_path = ''` to the function definition and "
                "schema-qualify the objects it uses.",
            ),
            check_definer_search_path,
        ),
        (
            Rule(
                id="sql.drop-without-if-exists",
                category="non-idempotent-migration",
                severity=Severity.MEDIUM,
                rationale="A `drop` without `if exists` fails wherever the object is already gone, "
                "so the migration cannot be re-run or applied to a drifted database.",
                suggested_fix="Use `drop ... if exists` (`alter table ... drop column if exists ...`).",
            ),
            check_drop_without_if_exists,
        ),
    ),
)
