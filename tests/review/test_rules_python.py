"""The python rule pack: each rule on a realistic firing case and on its near-misses."""

from __future__ import annotations

import textwrap

import pytest
from rulekit import file_change, review, review_text, rule_ids

from code_assistant_lora.findings import Severity
from code_assistant_lora.review.rule import FileUnderReview, ReviewContext
from code_assistant_lora.review.rules.python import PACK


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


FIRING = [
    # (id, path, source, rule, line, severity)
    (
        "environ-subscript-at-import",
        "app/config.py",
        """
        import os

        DATABASE_URL = os.environ["DATABASE_URL"]
        """,
        "python.env-read-at-import",
        3,
        Severity.MEDIUM,
    ),
    (
        "environ-subscript-in-class-body",
        "app/settings_model.py",
        """
        from os import environ

        class Settings:
            api_key = environ["API_KEY"]
        """,
        "python.env-read-at-import",
        4,
        Severity.MEDIUM,
    ),
    (
        "getenv-cast-at-import",
        "app/server.py",
        """
        import os

        PORT = int(os.getenv("PORT"))
        """,
        "python.env-read-at-import",
        3,
        Severity.MEDIUM,
    ),
    (
        "getenv-name-used-unchecked",
        "app/db.py",
        """
        import os
        from sqlalchemy import create_engine

        DB_URL = os.environ.get("DB_URL")
        engine = create_engine(DB_URL)
        """,
        "python.env-read-at-import",
        4,
        Severity.MEDIUM,
    ),
    (
        "bare-except-pass",
        "app/sync.py",
        """
        def sync(client):
            try:
                client.push()
            except:
                pass
        """,
        "python.broad-except-swallowed",
        4,
        Severity.MEDIUM,
    ),
    (
        "except-exception-debug-log",
        "app/worker.py",
        """
        import logging

        logger = logging.getLogger(__name__)

        def run(jobs):
            for job in jobs:
                try:
                    job.run()
                except Exception as exc:
                    logger.debug("job failed: %s", exc)
                    continue
        """,
        "python.broad-except-swallowed",
        9,
        Severity.MEDIUM,
    ),
    (
        "except-tuple-with-baseexception-returns-none",
        "app/parse.py",
        """
        def parse(raw):
            try:
                return int(raw)
            except (ValueError, BaseException):
                return None
        """,
        "python.broad-except-swallowed",
        4,
        Severity.MEDIUM,
    ),
    (
        "shell-true-fstring",
        "app/git.py",
        """
        import subprocess

        def checkout(branch):
            subprocess.run(f"git checkout {branch}", shell=True, check=True)
        """,
        "python.shell-injection",
        4,
        Severity.HIGH,
    ),
    (
        "shell-true-variable-from-concat",
        "app/archive.py",
        """
        import subprocess as sp

        def archive(path):
            cmd = "tar czf out.tgz " + path
            return sp.check_output(cmd, shell=True)
        """,
        "python.shell-injection",
        5,
        Severity.HIGH,
    ),
    (
        "os-system-format",
        "app/convert.py",
        """
        import os

        def convert(name):
            os.system("convert {} out.png".format(name))
        """,
        "python.shell-injection",
        4,
        Severity.HIGH,
    ),
    (
        "sql-fstring-direct",
        "app/repo.py",
        """
        def find_user(cursor, username):
            cursor.execute(f"SELECT * FROM users WHERE name = '{username}'")
            return cursor.fetchone()
        """,
        "python.sql-injection",
        2,
        Severity.HIGH,
    ),
    (
        "sql-percent-via-variable",
        "app/orders.py",
        """
        def orders_for(conn, customer_id):
            query = "SELECT id, total FROM orders WHERE customer_id = %s" % customer_id
            cur = conn.cursor()
            cur.execute(query)
            return cur.fetchall()
        """,
        "python.sql-injection",
        2,  # where the value is formatted in (the finding spans to the execute on line 4)
        Severity.HIGH,
    ),
    (
        "sqlalchemy-text-concat",
        "app/reports.py",
        """
        from sqlalchemy import text

        def delete_report(session, report_id):
            session.execute(text("DELETE FROM reports WHERE id = " + report_id))
        """,
        "python.sql-injection",
        4,
        Severity.HIGH,
    ),
    (
        "sql-augmented-filter",
        "app/search.py",
        """
        def search(cursor, name):
            sql = "SELECT * FROM products WHERE 1 = 1"
            sql += " AND name LIKE '%{}%'".format(name)
            cursor.execute(sql)
        """,
        "python.sql-injection",
        3,
        Severity.HIGH,
    ),
    (
        "mutable-default-list",
        "app/tags.py",
        """
        def add_tag(tag, tags=[]):
            tags.append(tag)
            return tags
        """,
        "python.mutable-default-argument",
        1,
        Severity.MEDIUM,
    ),
    (
        "mutable-default-dict-call-kwonly",
        "app/cache.py",
        """
        async def fetch(key, *,
                        cache=dict()):
            return cache.get(key)
        """,
        "python.mutable-default-argument",
        2,
        Severity.MEDIUM,
    ),
    (
        "requests-without-timeout",
        "app/client.py",
        """
        import requests

        def get_user(user_id):
            resp = requests.get(f"https://api.example.com/users/{user_id}")
            resp.raise_for_status()
            return resp.json()
        """,
        "python.http-call-without-timeout",
        4,
        Severity.MEDIUM,
    ),
    (
        "httpx-from-import-without-timeout",
        "app/hooks.py",
        """
        from httpx import post

        def notify(url, payload):
            post(url, json=payload)
        """,
        "python.http-call-without-timeout",
        4,
        Severity.MEDIUM,
    ),
    (
        "yaml-load-no-loader",
        "app/loader.py",
        """
        import yaml

        def load(path):
            with open(path) as fh:
                return yaml.load(fh)
        """,
        "python.unsafe-yaml-load",
        5,
        Severity.HIGH,
    ),
    (
        "yaml-load-full-loader",
        "app/loader.py",
        """
        import yaml

        def load(stream):
            return list(yaml.load_all(stream, Loader=yaml.Loader))
        """,
        "python.unsafe-yaml-load",
        4,
        Severity.HIGH,
    ),
    (
        "yaml-unsafe-load",
        "app/loader.py",
        """
        import yaml

        def load(text):
            return yaml.unsafe_load(text)
        """,
        "python.unsafe-yaml-load",
        4,
        Severity.HIGH,
    ),
    (
        "pickle-loads-request-body",
        "app/api.py",
        """
        import pickle

        def restore(request):
            return pickle.loads(request.body)
        """,
        "python.unsafe-pickle-load",
        4,
        Severity.HIGH,
    ),
    (
        "dill-load-file",
        "app/models.py",
        """
        import dill

        def load_model(path):
            with open(path, "rb") as fh:
                return dill.load(fh)
        """,
        "python.unsafe-pickle-load",
        5,
        Severity.HIGH,
    ),
    (
        "print-in-library",
        "src/shop/pricing.py",
        """
        def price(item):
            total = item.base * item.qty
            print("total", total)
            return total
        """,
        "python.print-left-in-code",
        3,
        Severity.LOW,
    ),
    (
        "breakpoint-in-library",
        "src/shop/pricing.py",
        """
        def price(item):
            breakpoint()
            return item.base
        """,
        "python.breakpoint-left-in-code",
        2,
        Severity.MEDIUM,
    ),
    (
        "pdb-one-liner",
        "src/shop/pricing.py",
        """
        def price(item):
            import pdb; pdb.set_trace()
            return item.base
        """,
        "python.breakpoint-left-in-code",
        2,
        Severity.MEDIUM,
    ),
    (
        "assert-on-argument",
        "src/shop/pricing.py",
        """
        def apply_discount(price, percent):
            assert 0 <= percent <= 100, "percent out of range"
            return price * (100 - percent) / 100
        """,
        "python.assert-for-validation",
        2,
        Severity.MEDIUM,
    ),
    (
        "assert-isinstance-on-method-argument",
        "src/shop/cart.py",
        """
        class Cart:
            def add(self, item):
                assert isinstance(item, Item)
                self.items.append(item)
        """,
        "python.assert-for-validation",
        3,
        Severity.MEDIUM,
    ),
    (
        "sql-multiline-raw",
        "app/search.py",
        """
        def search(term):
            return Product.objects.raw(
                "SELECT * FROM catalog_product "
                "WHERE name ILIKE '%%%s%%'" % term
            )
        """,
        "python.sql-injection",
        2,
        Severity.HIGH,
    ),
    (
        "django-extra-where-concat",
        "app/views.py",
        """
        def by_category(qs, slug):
            return qs.extra(where=["category_id = (SELECT id FROM cat WHERE slug = '" + slug + "')"])
        """,
        "python.sql-injection",
        2,
        Severity.HIGH,
    ),
    (
        "django-rawsql-fstring",
        "app/views.py",
        """
        from django.db.models.expressions import RawSQL

        def annotate(qs, field):
            return qs.annotate(val=RawSQL(f"payload ->> '{field}'", []))
        """,
        "python.sql-injection",
        4,
        Severity.HIGH,
    ),
    (
        "asyncpg-fetchrow-fstring",
        "app/repo.py",
        """
        async def by_email(conn, email):
            return await conn.fetchrow(f"SELECT * FROM users WHERE email = '{email}'")
        """,
        "python.sql-injection",
        2,
        Severity.HIGH,
    ),
    (
        "sql-where-joined-from-request-values",
        "app/repo.py",
        """
        def search(cursor, filters):
            clauses = []
            for key, value in filters.items():
                clauses.append(f"{key} = '{value}'")
            cursor.execute("SELECT * FROM t WHERE " + " AND ".join(clauses))
        """,
        "python.sql-injection",
        5,
        Severity.HIGH,
    ),
    (
        "sql-request-get-is-not-an-allowlist",
        "app/views.py",
        """
        def view(request, cursor):
            slug = request.GET.get("slug")
            cursor.execute(f"SELECT * FROM t WHERE slug = '{slug}'")
        """,
        "python.sql-injection",
        3,
        Severity.HIGH,
    ),
    (
        "bash-c-argv",
        "app/git.py",
        """
        import subprocess

        def checkout(branch):
            subprocess.run(["bash", "-c", f"git checkout {branch} && make"], check=True)
        """,
        "python.shell-injection",
        4,
        Severity.HIGH,
    ),
    (
        "shell-true-joined-argv",
        "app/media.py",
        """
        import subprocess

        def poster(src, dst):
            args = ["ffmpeg", "-i", src, "-frames:v", "1", dst]
            subprocess.Popen(" ".join(args), shell=True).wait()
        """,
        "python.shell-injection",
        5,
        Severity.HIGH,
    ),
    (
        "requests-session-attribute-without-timeout",
        "app/client.py",
        """
        import requests

        class Payments:
            def __init__(self):
                self.session = requests.Session()

            def charge(self, payload):
                return self.session.post("https://pay.internal/charges", json=payload)
        """,
        "python.http-call-without-timeout",
        8,
        Severity.MEDIUM,
    ),
    (
        "requests-session-context-manager-without-timeout",
        "app/client.py",
        """
        import requests

        def fetch_all(urls):
            with requests.Session() as s:
                return [s.get(u).json() for u in urls]
        """,
        "python.http-call-without-timeout",
        5,
        Severity.MEDIUM,
    ),
    (
        "module-session-used-in-function",
        "app/client.py",
        """
        import requests

        http = requests.Session()

        def ping(url):
            return http.head(url)
        """,
        "python.http-call-without-timeout",
        6,
        Severity.MEDIUM,
    ),
    (
        "httpx-client-timeout-none",
        "app/client.py",
        """
        import httpx

        async def profile(url):
            async with httpx.AsyncClient(timeout=None) as client:
                return (await client.get(url)).json()
        """,
        "python.http-call-without-timeout",
        4,
        Severity.MEDIUM,
    ),
    (
        "requests-timeout-none",
        "app/client.py",
        """
        import requests

        def ping(url):
            return requests.get(url, timeout=None)
        """,
        "python.http-call-without-timeout",
        4,
        Severity.MEDIUM,
    ),
    (
        "urlopen-without-timeout",
        "app/client.py",
        """
        import urllib.request

        def challenge(url):
            with urllib.request.urlopen(url + "?challenge=1") as resp:
                return resp.read()
        """,
        "python.http-call-without-timeout",
        4,
        Severity.MEDIUM,
    ),
    (
        "except-exception-returns-fixed-fallback",
        "app/sync.py",
        """
        def owner_email(crm, owner_id):
            try:
                return crm.get_user(owner_id)["email"]
            except Exception:
                return ""
        """,
        "python.broad-except-swallowed",
        4,
        Severity.MEDIUM,
    ),
    (
        "suppress-exception",
        "app/sync.py",
        """
        import contextlib

        def close(client):
            with contextlib.suppress(Exception):
                client.close()
        """,
        "python.broad-except-swallowed",
        4,
        Severity.MEDIUM,
    ),
    (
        "assert-permission-through-attributes",
        "src/shop/refunds.py",
        """
        def refund(order, actor):
            assert actor.is_staff or actor.id == order.customer_id
            return order.refund()
        """,
        "python.assert-for-validation",
        2,
        Severity.MEDIUM,
    ),
    (
        "ipython-embed",
        "src/shop/pricing.py",
        """
        def price(item):
            from IPython import embed; embed()
            return item.base
        """,
        "python.breakpoint-left-in-code",
        2,
        Severity.MEDIUM,
    ),
    (
        "pprint-in-library",
        "src/shop/pricing.py",
        """
        from pprint import pprint

        def price(item):
            pprint(item.__dict__)
            return item.base
        """,
        "python.print-left-in-code",
        4,
        Severity.LOW,
    ),
    (
        "yaml-full-load",
        "app/loader.py",
        """
        import yaml

        def load(text):
            return yaml.full_load(text)
        """,
        "python.unsafe-yaml-load",
        4,
        Severity.HIGH,
    ),
    (
        "sql-template-constant-formatted",
        "app/repo.py",
        """
        QUERY = "SELECT * FROM users WHERE name = '{name}'"

        def by_name(cursor, name):
            cursor.execute(QUERY.format(name=name))
        """,
        "python.sql-injection",
        4,
        Severity.HIGH,
    ),
    (
        "requests-session-from-a-helper",
        "app/client.py",
        """
        import requests

        def _session():
            s = requests.Session()
            s.headers["User-Agent"] = "svc/1.0"
            return s

        class Client:
            def __init__(self):
                self.http = _session()

            def get(self, url):
                return self.http.get(url)
        """,
        "python.http-call-without-timeout",
        13,
        Severity.MEDIUM,
    ),
    (
        "assert-current-user-in-view",
        "admin/flags.py",
        """
        @bp.post("/import")
        @login_required
        def import_flags():
            assert current_user.is_admin, "admins only"
            return do_import()
        """,
        "python.assert-for-validation",
        4,
        Severity.MEDIUM,
    ),
    (
        "assert-env-config-at-import",
        "app/config.py",
        """
        import os

        API_KEY = os.getenv("API_KEY")
        assert API_KEY, "API_KEY must be set"
        """,
        "python.assert-for-validation",
        4,
        Severity.MEDIUM,
    ),
    (
        "jsonpickle-decode",
        "app/api.py",
        """
        import jsonpickle

        def restore(request):
            return jsonpickle.decode(request.body)
        """,
        "python.unsafe-pickle-load",
        4,
        Severity.HIGH,
    ),
    (
        "sql-table-attribute-from-constructor",
        "app/repo.py",
        """
        class Repo:
            def __init__(self, table):
                self.table = table

            def get(self, cur, pk):
                cur.execute(f"SELECT * FROM {self.table} WHERE id = %s", (pk,))
        """,
        "python.sql-injection",
        6,
        Severity.HIGH,
    ),
]


@pytest.mark.parametrize(
    ("path", "source", "rule", "line", "severity"),
    [case[1:] for case in FIRING],
    ids=[case[0] for case in FIRING],
)
def test_rule_fires(path: str, source: str, rule: str, line: int, severity: Severity) -> None:
    findings = [f for f in review_text(path, src(source), only="python") if f.rule == rule]
    assert [(f.line, f.severity) for f in findings] == [(line, severity)]


NEAR_MISSES = [
    # (id, path, source, rule that must stay quiet)
    (
        "environ-read-inside-function",
        "app/config.py",
        """
        import os

        def database_url():
            return os.environ["DATABASE_URL"]
        """,
        "python.env-read-at-import",
    ),
    (
        "env-with-defaults",
        "app/config.py",
        """
        import os

        PORT = int(os.getenv("PORT", "8000"))
        HOST = os.environ.get("HOST", "0.0.0.0")
        DEBUG = os.getenv("DEBUG") == "1"
        LOG_LEVEL = os.getenv("LOG_LEVEL") or "INFO"
        os.environ["TZ"] = "UTC"
        """,
        "python.env-read-at-import",
    ),
    (
        "env-under-main-guard",
        "app/serve.py",
        """
        import os

        if __name__ == "__main__":
            run(port=int(os.environ["PORT"]))
        """,
        "python.env-read-at-import",
    ),
    (
        "getenv-then-validated",
        "app/config.py",
        """
        import os

        API_KEY = os.getenv("API_KEY")
        if not API_KEY:
            raise RuntimeError("API_KEY must be set")
        client = Client(API_KEY)
        """,
        "python.env-read-at-import",
    ),
    (
        "environ-guarded-by-membership",
        "app/config.py",
        """
        import os

        if "SENTRY_DSN" in os.environ:
            sentry_init(os.environ["SENTRY_DSN"])
        try:
            REGION = os.environ["REGION"]
        except KeyError:
            REGION = "eu"
        """,
        "python.env-read-at-import",
    ),
    (
        "env-in-test-file",
        "tests/test_config.py",
        """
        import os

        TOKEN = os.environ["TEST_TOKEN"]
        """,
        "python.env-read-at-import",
    ),
    (
        "except-logged-or-reraised-or-narrow",
        "app/sync.py",
        """
        import logging

        logger = logging.getLogger(__name__)

        def sync(client):
            try:
                client.push()
            except Exception:
                logger.exception("push failed")
            try:
                client.pull()
            except Exception as exc:
                raise SyncError("pull failed") from exc
            try:
                client.close()
            except (ConnectionError, TimeoutError):
                pass
            try:
                import ujson as json
            except ImportError:
                json = None
        """,
        "python.broad-except-swallowed",
    ),
    (
        "shell-literal-and-list-args",
        "app/git.py",
        """
        import shlex
        import subprocess

        GIT_STATUS = "git status --porcelain"

        def status(branch, files):
            subprocess.run("git fetch --all", shell=True, check=True)
            subprocess.run(GIT_STATUS, shell=True)
            subprocess.run(["git", "checkout", branch], check=True)
            subprocess.run(f"git log {shlex.quote(branch)}", shell=True)
            subprocess.run(shlex.join(["git", "add", *files]), shell=True)
            cmd = "git gc"
            subprocess.call(cmd, shell=True)
        """,
        "python.shell-injection",
    ),
    (
        "parameterised-sql",
        "app/repo.py",
        """
        from sqlalchemy import text

        TABLE = "users"

        def find(cursor, session, username, ids, limit):
            cursor.execute("SELECT * FROM users WHERE name = %s", (username,))
            cursor.execute("SELECT * FROM users WHERE name = ?", [username])
            cursor.execute(f"SELECT * FROM {TABLE} WHERE id = %s", (ids[0],))
            placeholders = ", ".join("?" * len(ids))
            cursor.execute(f"SELECT * FROM users WHERE id IN ({placeholders})", ids)
            cursor.execute(f"SELECT * FROM users LIMIT {int(limit)}")
            session.execute(text("SELECT * FROM users WHERE name = :name"), {"name": username})
            query = "DELETE FROM sessions WHERE user = %(user)s"
            cursor.execute(query, {"user": username})
            executor.execute(f"job-{username}")
        """,
        "python.sql-injection",
    ),
    (
        "immutable-defaults",
        "app/tags.py",
        """
        def add_tag(tag, tags=None, sep=",", kinds=(), frozen=frozenset(), ids: list[int] = Query([])):
            tags = [] if tags is None else tags
            return tags
        """,
        "python.mutable-default-argument",
    ),
    (
        "http-with-timeout-or-client",
        "app/client.py",
        """
        import httpx
        import requests

        def get_user(user_id, **kwargs):
            requests.get("https://api.example.com/users", timeout=10)
            requests.post("https://api.example.com/users", **kwargs)
            with httpx.Client(timeout=5) as client:
                client.get("https://api.example.com/ping")
            with httpx.Client() as client:  # httpx defaults to a 5 s timeout
                client.get("https://api.example.com/ping")
            session = requests.Session()
            session.mount("https://", TimeoutHTTPAdapter(timeout=10))
            session.get("https://api.example.com/ping")
            session.get("https://api.example.com/ping", timeout=3)
        """,
        "python.http-call-without-timeout",
    ),
    (
        "session-scoping-and-other-get-methods",
        "app/client.py",
        """
        import requests

        http = requests.Session()

        def load(session, model, pk):
            return session.get(model, pk)  # a SQLAlchemy session, not the requests one

        def ping(url, http=None):
            return http.get(url)  # the parameter shadows the module session

        def config(settings):
            return settings.get("timeout")

        class Client:
            def __init__(self):
                self.session = make_session()

            def fetch(self, url):
                return self.session.get(url)
        """,
        "python.http-call-without-timeout",
    ),
    (
        "yaml-safe-loaders",
        "app/loader.py",
        """
        import yaml

        def load(fh, text):
            yaml.safe_load(fh)
            yaml.load(text, Loader=yaml.SafeLoader)
            yaml.load(text, yaml.CSafeLoader)
            yaml.load_all(text, Loader=ConfigLoader)
        """,
        "python.unsafe-yaml-load",
    ),
    (
        "pickle-roundtrip-and-tests",
        "app/cache.py",
        """
        import copy
        import pickle

        def clone(obj):
            data = pickle.dumps(obj)
            pickle.dump(obj, open("x", "wb"))
            return pickle.loads(pickle.dumps(obj))
        """,
        "python.unsafe-pickle-load",
    ),
    (
        "pickle-in-test-file",
        "tests/test_cache.py",
        """
        import pickle

        def test_roundtrip(tmp_path):
            assert pickle.load(open(tmp_path / "x", "rb")) == 1
        """,
        "python.unsafe-pickle-load",
    ),
    (
        "print-in-entry-points",
        "src/shop/report.py",
        """
        import sys
        import click

        @click.command()
        def export():
            print("exported")

        def main():
            print("done")

        def warn(msg):
            print(msg, file=sys.stderr)

        if __name__ == "__main__":
            print("running")
        """,
        "python.print-left-in-code",
    ),
    (
        "print-in-script",
        "scripts/seed_db.py",
        """
        def seed():
            print("seeding")
        """,
        "python.print-left-in-code",
    ),
    (
        "print-in-test",
        "tests/test_pricing.py",
        """
        def test_price():
            print("debug")
            assert price(1) == 1
        """,
        "python.print-left-in-code",
    ),
    (
        "debugger-post-mortem-and-strings",
        "src/shop/cli_support.py",
        """
        import pdb

        def run(fn, debug):
            '''Call breakpoint() yourself if you need it.'''
            try:
                fn()
            except Exception:
                if debug:
                    pdb.post_mortem()
                raise
        """,
        "python.breakpoint-left-in-code",
    ),
    (
        "assert-invariants-and-tests",
        "src/shop/pricing.py",
        """
        from typing import TYPE_CHECKING

        def _apply(price, percent):
            assert percent >= 0
            return price

        def total(items):
            result = sum(i.price for i in items)
            assert result >= 0
            return result

        def outer(x):
            def inner(y):
                assert y
            return inner(x)

        def collect(config, parent):
            assert parent is not None
            assert config.cache is not None
            return parent
        """,
        "python.assert-for-validation",
    ),
    (
        "assert-in-tests",
        "tests/test_pricing.py",
        """
        def check(value):
            assert value > 0
        """,
        "python.assert-for-validation",
    ),
    (
        "mentions-in-comments-and-strings",
        "src/shop/docs.py",
        '''
        # never do subprocess.run(f"rm {x}", shell=True) or print(x) or breakpoint()
        HELP = """
        cursor.execute(f"SELECT * FROM t WHERE id = {id}")
        requests.get(url)
        yaml.load(text)
        """
        ''',
        "python",
    ),
    (
        "sql-allowlisted-and-scalar-values",
        "app/repo.py",
        """
        SORTABLE = {"name": "name", "date": "created_at"}
        ALLOWED_TABLES = frozenset({"events", "sessions"})
        COLUMNS = ("id", "name")

        def listing(cursor, order_by, table, desc, page: int, size: int):
            column = SORTABLE.get(order_by)
            if column is None:
                raise ValueError(order_by)
            if table not in ALLOWED_TABLES:
                raise ValueError(table)
            direction = "DESC" if desc else "ASC"
            offset = (page - 1) * size
            cursor.execute(
                f"SELECT {', '.join(COLUMNS)} FROM {table} ORDER BY {column} {direction} "
                f"LIMIT {size} OFFSET {offset}"
            )
            for col in ("a", "b"):
                cursor.execute(f"ALTER TABLE {table} ADD COLUMN {col} text")
            cursor.execute(f"SELECT * FROM {Event._meta.db_table} WHERE id = %s", (page,))
        """,
        "python.sql-injection",
    ),
    (
        "sql-where-joined-from-fixed-fragments",
        "app/repo.py",
        """
        def recent(cursor, actor_id=None, actions=None):
            clauses, params = [], []
            if actor_id is not None:
                clauses.append("actor_id = %s")
                params.append(actor_id)
            if actions:
                clauses.append("action IN (" + ", ".join(["%s"] * len(actions)) + ")")
                params.extend(actions)
            where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
            cursor.execute(f"SELECT * FROM audit {where} ORDER BY id DESC", params)
        """,
        "python.sql-injection",
    ),
    (
        "fetch-that-is-not-sql",
        "app/client.py",
        """
        async def load(client, user):
            return await client.fetch(f"/users/{user}/where-from")
        """,
        "python.sql-injection",
    ),
    (
        "bash-c-constant-script",
        "app/ops.py",
        """
        import subprocess

        def version(path):
            subprocess.run(["bash", "-c", "pg_dump --version | head -1"], check=True)
            subprocess.run(["bash", "-c", "tar czf out.tgz \\"$1\\"", "tar", path], check=True)
        """,
        "python.shell-injection",
    ),
    (
        "except-narrow-fallbacks-and-suppress",
        "app/parse.py",
        """
        import contextlib
        import os

        def weight(raw):
            try:
                return float(raw)
            except ValueError:
                return 0.0

        def cleanup(path):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
        """,
        "python.broad-except-swallowed",
    ),
    (
        "print-in-command-line-module-outside-scripts",
        "tools/migrate_data.py",
        """
        import argparse

        def run(args):
            print("migrating", args.db)

        def main():
            run(argparse.ArgumentParser().parse_args())

        if __name__ == "__main__":
            main()
        """,
        "python.print-left-in-code",
    ),
    (
        "assert-module-level-invariant-and-main",
        "app/config.py",
        """
        import os
        import sys

        assert sys.version_info >= (3, 10)
        PORT = int(os.getenv("PORT", "8000"))

        if __name__ == "__main__":
            assert os.environ["PORT"]
        """,
        "python.assert-for-validation",
    ),
    (
        "sql-class-constant-table-and-non-sql-template",
        "app/repo.py",
        """
        MESSAGE = "Hello {name}, your order from {shop} is ready"

        class BaseRepo:
            table = "users"

            def get(self, cur, pk):
                cur.execute(f"SELECT * FROM {self.table} WHERE id = %s", (pk,))

        class OrderRepo(BaseRepo):
            table = "orders"

        def notify(mailer, name, shop):
            mailer.execute(MESSAGE.format(name=name, shop=shop))
        """,
        "python.sql-injection",
    ),
]


@pytest.mark.parametrize(
    ("path", "source", "rule"),
    [case[1:] for case in NEAR_MISSES],
    ids=[case[0] for case in NEAR_MISSES],
)
def test_near_miss_stays_quiet(path: str, source: str, rule: str) -> None:
    findings = review_text(path, src(source), only="python")
    assert [f for f in findings if f.rule == rule or rule == "python"] == []


def test_pack_rules_are_well_formed() -> None:
    assert PACK.matches("app/x.py") and PACK.matches("stubs/x.pyi") and not PACK.matches("x.js")
    ids = [rule.id for rule in PACK.rules]
    assert len(ids) == len(set(ids)) == 11
    assert all(rule_id.startswith("python.") for rule_id in ids)


def test_only_added_lines_are_reported() -> None:
    old = src(
        """
        import requests

        def a():
            return requests.get("https://a.example")

        def b(items=[]):
            return items
        """
    )
    new = old + "\n\ndef c(url):\n    return requests.get(url)\n"
    findings = review_text("app/client.py", new, old, only="python")
    assert [(f.rule, f.line) for f in findings] == [("python.http-call-without-timeout", 11)]


def test_inline_ignore_suppresses() -> None:
    new = src(
        """
        import requests

        def a():
            return requests.get("https://a.example")  # code-assistant: ignore[python.http-call-without-timeout]

        def b(items=[]):  # code-assistant: ignore[python.mutable-default-argument]
            return items
        """
    )
    assert review_text("app/client.py", new, only="python") == []


def test_sparse_diff_text_is_read_fragment_by_fragment() -> None:
    """A diff file shows only hunks; the rest of the new file is blank lines."""
    sparse = (
        "\n" * 20
        + "    def fetch(self, url, seen=[]):\n        return requests.get(url)\n"
        + "\n" * 5
    )
    sparse += '        cursor.execute(f"SELECT * FROM t WHERE id = {self.id}")\n'
    change = FileUnderReview(
        path="app/client.py", status="modified", text=sparse, added_lines=frozenset({21, 22, 28})
    )
    findings = review(change, only="python")
    assert sorted((f.line, f.rule) for f in findings) == [
        (21, "python.mutable-default-argument"),
        (22, "python.http-call-without-timeout"),
        (28, "python.sql-injection"),
    ]


def test_import_time_rules_stay_quiet_on_fragments_of_unknown_scope() -> None:
    sparse = "\n" * 10 + "        token = os.environ['TOKEN']\n        print(token)\n"
    change = FileUnderReview(
        path="app/x.py", status="modified", text=sparse, added_lines=frozenset({11})
    )
    assert "python.env-read-at-import" not in rule_ids(review(change, only="python"))


DEEP_SQL = "def f(cursor, b):\n    cursor.execute('SELECT ' + " + " + ".join(["b"] * 1000) + ")\n"


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "def broken(:\n    pass\n",
        "\x00\x01binary\x00",
        "x = (" * 400 + ")" * 400,
        "   \n\t\n",
        DEEP_SQL,
    ],
    ids=["none", "empty", "syntax-error", "binary", "deep-nesting", "blank", "deep-concatenation"],
)
def test_checks_never_raise_on_odd_input(text: str | None) -> None:
    status = "deleted" if text is None else "added"
    file = FileUnderReview(path="app/odd.py", status=status, text=text, added_lines=frozenset({1}))
    context = ReviewContext(files=(file,))
    for _rule, check in PACK.checks:
        list(check(file, context))


def test_rationale_names_the_culprit() -> None:
    findings = review_text(
        "app/tags.py", "def add(tag, tags=[]):\n    return tags\n", only="python"
    )
    assert "`tags=[]`" in findings[0].rationale and "add()" in findings[0].rationale


def test_large_clean_file_gives_no_findings() -> None:
    """Size alone never produces findings (speed is measured by benchmarks/review_speed.py)."""
    body = src(
        """
        def handler_{n}(request, items=None):
            try:
                data = requests.get(request.url, timeout=5).json()
            except ValueError:
                data = {{}}
            cursor.execute("SELECT * FROM t WHERE id = %s", (data["id"],))
            return [x for x in data if x]

        """
    )
    text = "import requests\n" + "".join(body.format(n=n) for n in range(1200))
    findings = review(file_change("app/big.py", text), only="python")
    assert findings == []


def test_sql_findings_sit_on_each_interpolation_and_span_to_the_sink() -> None:
    new = src(
        """
        def export(conn, start, end, status):
            query = (
                "SELECT id, total FROM orders "
                f"WHERE created_at BETWEEN '{start}' AND '{end}'"
            )
            if status:
                query += f" AND status = '{status}'"
            query += " ORDER BY created_at"
            return conn.execute(query).fetchall()
        """
    )
    findings = review_text("app/export.py", new, only="python")
    assert [(f.rule, f.line, f.end_line) for f in findings] == [
        ("python.sql-injection", 4, 9),
        ("python.sql-injection", 7, 9),
    ]


def test_sql_built_on_unchanged_lines_is_reported_at_the_new_sink() -> None:
    old = src(
        """
        def orders(conn, customer):
            query = "SELECT * FROM orders WHERE customer = '%s'" % customer
            return query
        """
    )
    new = old.replace("    return query\n", "    return conn.execute(query).fetchall()\n")
    findings = review_text("app/orders.py", new, old, only="python")
    assert [(f.rule, f.line) for f in findings] == [("python.sql-injection", 3)]


def test_inline_sql_is_reported_on_the_call_spanning_its_arguments() -> None:
    old = src(
        """
        def search(session, term):
            return session.execute(
                text(
                    "SELECT * FROM product "
                    "WHERE active "
                    "ORDER BY name"
                )
            )
        """
    )
    new = old.replace('"ORDER BY name"', "f\"AND name ILIKE '%{term}%' ORDER BY name\"")
    whole = review_text("app/search.py", new, only="python")
    assert [(f.line, f.end_line) for f in whole] == [(3, 7)]  # the text() call
    # only the interpolating line changed: the finding moves there
    changed = review_text("app/search.py", new, old, only="python")
    assert [(f.line, f.end_line) for f in changed] == [(6, 7)]
