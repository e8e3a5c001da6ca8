"""The secrets pack: token formats, keyword and entropy assignments, private keys, dotenv files.

Every canary is assembled from pieces so this file is not itself a leak to other scanners."""

from __future__ import annotations

import base64
import json

import pytest
from rulekit import review_text

from code_assistant_lora.findings import Severity

AWS_KEY = "AKIA" + "Z7Q3T5V2X8R4W6YB"
GITHUB_TOKEN = "ghp_" + "k3Jd9sLq2Wm8Xv5Nz1Rt7Yb4Pc6Hf0Ga2EuT"
STRIPE_KEY = "sk_live_" + "51Hx9kQ2e" + "ZvKYlo2C8nR4tWq"
SLACK_TOKEN = "xoxb-" + "2048813467-1130589221634-" + "q8sN3vLk2PzR7mW4xT9cYb1D"
PASSWORD = "Tr0ub4dor" + "&3xQv9"
HEX_TOKEN = "9f8e7d6c5b4a3928" + "1706f5e4d3c2b1a0"
KEY_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7" + "q7BFUrkRmmPbKx0a9Yt3" * 2
PEM = "-----BEGIN " + "PRIVATE KEY-----\n" + KEY_BODY + "\n-----END " + "PRIVATE KEY-----\n"


def _jwt(claims: dict) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}." + "c2lnbmF0dXJlLXNpZ25hdHVyZQ"


def secrets(path: str, new: str, old: str | None = None):
    return review_text(path, new, old, only="secrets")


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("app/aws.py", f'AWS_ACCESS_KEY_ID = "{AWS_KEY}"\n'),
        ("config/deploy.yml", f"github:\n  token: {GITHUB_TOKEN}\n"),
        ("src/billing.ts", f'const stripe = new Stripe("{STRIPE_KEY}");\n'),
        ("notify/slack.py", f'client = WebClient(token="{SLACK_TOKEN}")\n'),
        (
            "web/.npmrc",
            "//registry.npmjs.org/:_authToken=npm_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8\n",
        ),
        (
            "src/lib/supabase.ts",
            f'const admin = createClient(url, "{_jwt({"role": "service_role", "iss": "supabase"})}");\n',
        ),
    ],
)
def test_known_token_formats_are_critical(path, text):
    findings = secrets(path, text)
    assert [(f.rule, f.severity) for f in findings] == [
        ("secrets.hardcoded-credential", Severity.CRITICAL)
    ]
    assert "known token format" in findings[0].rationale


@pytest.mark.parametrize(
    ("path", "text", "line"),
    [
        ("app/settings.py", f'import os\n\nDB_PASSWORD = "{PASSWORD}"\n', 3),
        ("config/app.yaml", f"database:\n  host: db.internal\n  password: {PASSWORD}\n", 3),
        ("src/api.js", f'export const apiKey = "{PASSWORD}Zk";\n', 1),
        ("app/clients.py", f'API_TOKEN = "{HEX_TOKEN}"\n', 1),
        (
            "app/db.py",
            'DATABASE_URL = "postgresql://app:' + "Xk9mP2qL7vRw" + '@prod-db.internal:5432/app"\n',
            1,
        ),
        (
            "app/partner.py",
            'HEADERS = {"Authorization": "Bearer 4f9c2a7e1b8d3f6a0c5e9b2d7a4f1c8e6b3d0a9f"}\n',
            1,
        ),
    ],
)
def test_credential_assignments_fire_high(path, text, line):
    findings = secrets(path, text)
    assert [(f.rule, f.line, f.severity) for f in findings] == [
        ("secrets.hardcoded-credential", line, Severity.HIGH)
    ]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("app/settings.py", 'DB_PASSWORD = os.environ["DB_PASSWORD"]\n'),
        ("app/settings.py", 'password = os.getenv("DB_PASSWORD", "")\n'),
        ("app/login.py", "password = getpass.getpass()\n"),
        ("app/settings.py", "PASSWORD_MIN_LENGTH = 12\n"),
        ("app/aws.py", 'secret_name = "prod/billing/db-credentials"\n'),
        ("app/oauth.py", 'token_url = "https://auth.example.com/oauth/token"\n'),
        ("config/app.yaml", "database:\n  password: ${DB_PASSWORD}\n"),
        ("config/app.yaml", "database:\n  password: changeme\n"),
        ("app/settings.py", 'api_key = "your-api-key-here"\n'),
        ("app/settings.py", 'STRIPE_KEY = "<stripe-secret-key>"\n'),
        (
            "app/files.py",
            'EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"\n',
        ),
        ("app/ids.py", 'client_id = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"\n'),
        (
            "tests/test_auth.py",
            f'def test_login(client):\n    client.login(username="alice", password="{PASSWORD}")\n',
        ),
        ("docker-compose.yml", "DATABASE_URL: postgres://postgres:postgres@localhost:5432/app\n"),
        ("app/forms.py", 'PASSWORD_FIELD = "password"\n'),
        ("app/engine.py", 'GENERIC_SECRET = "hardcoded-secret"\n'),
        ("app/config.ts", 'const SECRET_HEADER = "x-webhook-secret";\n'),
        ("src/lib/supabase.ts", f'const anon = "{_jwt({"role": "anon", "iss": "supabase"})}";\n'),
        ("frontend/package-lock.json", '"integrity": "sha512-' + "Qx9v" * 20 + '=="\n'),
        ("app/auth.ts", 'const token = localStorage.getItem("token");\n'),
        ("app/models.py", 'password = models.CharField(max_length=128, verbose_name="password")\n'),
        (
            "k8s/deploy.yaml",
            "      volumes:\n        - name: tls\n          secret:\n            secretName: gateway-tls-cert\n",
        ),
        (
            "k8s/ingress.yaml",
            "  tls:\n    - hosts: [api.example.com]\n      secretName: api-tls-production\n",
        ),
        (
            "src/auth.ts",
            'const passwordResetUrl = "https://auth.example.com/reset-password/confirm";\n',
        ),
    ],
)
def test_near_misses_do_not_fire(path, text):
    assert secrets(path, text) == []


def test_private_key_block_fires_on_its_header():
    findings = secrets("deploy/id_rsa", "# deploy key\n" + PEM)
    assert [(f.rule, f.line, f.end_line, f.severity) for f in findings] == [
        ("secrets.private-key", 2, 4, Severity.CRITICAL)
    ]


def test_private_key_escaped_in_a_json_string_fires_once():
    escaped = PEM.replace("\n", "\\n")
    text = f'{{\n  "type": "service_account",\n  "private_key": "{escaped}"\n}}\n'
    findings = secrets("config/service-account.json", text)
    assert [(f.rule, f.line) for f in findings] == [("secrets.private-key", 3)]


@pytest.mark.parametrize(
    "text",
    [
        'if line.startswith("-----BEGIN RSA PRIVATE KEY-----"):\n    kind = "rsa"\n',
        "Paste your key:\n\n    -----BEGIN PRIVATE KEY-----\n    ...\n    -----END PRIVATE KEY-----\n",
        "-----BEGIN PUBLIC KEY-----\n" + KEY_BODY + "\n-----END PUBLIC KEY-----\n",
    ],
)
def test_private_key_near_misses(text):
    assert secrets("docs/keys.md", text) == []


def test_env_file_fires_once_and_templates_do_not():
    text = "DEBUG=1\nDATABASE_URL=postgres://localhost/app\n"
    findings = secrets(".env", text)
    assert [(f.rule, f.line, f.severity) for f in findings] == [
        ("secrets.env-file-committed", 1, Severity.HIGH)
    ]
    assert secrets("services/api/.env.production", text)[0].rule == "secrets.env-file-committed"
    assert secrets(".env.example", text) == []
    assert secrets("config/.env.sample", text) == []
    assert secrets(".env", "# fill me in\nDATABASE_URL=\n") == []


def test_only_changed_lines_fire_on_a_modified_file():
    old = f'DB_PASSWORD = "{PASSWORD}"\n'
    new = old + "TIMEOUT = 30\n"
    assert secrets("app/settings.py", new, old) == []
    newer = old + f'AWS_ACCESS_KEY_ID = "{AWS_KEY}"\n'
    assert [f.line for f in secrets("app/settings.py", newer, old)] == [2]


def test_rationale_never_carries_the_secret():
    text = f'AWS = "{AWS_KEY}"\nDB_PASSWORD = "{PASSWORD}"\n' + PEM
    findings = secrets("app/leak.py", text)
    assert len(findings) == 3
    dumped = json.dumps([f.to_dict() for f in findings])
    for canary in (AWS_KEY, PASSWORD, KEY_BODY[:20]):
        assert canary not in dumped


def test_inline_suppression_silences_a_fixture():
    text = f'FAKE = "{AWS_KEY}"  # code-assistant: ignore[secrets.hardcoded-credential]\n'
    assert secrets("app/fixtures.py", text) == []


def test_binary_garbage_and_replacement_characters_do_not_raise():
    text = "\ufffd\ufffd\x00key=\ufffd" * 200 + "\n" + "A" * 5000 + "\n"
    assert secrets("data/blob.txt", text) == []


def test_a_specialists_secret_finding_absorbs_the_generic_one():
    """A token in a Dockerfile ENV is one finding (the docker pack's), at the higher severity."""
    findings = review_text(
        "Dockerfile", f"FROM python:3.12-slim\nENV AWS_ACCESS_KEY_ID={AWS_KEY}\nUSER app\n"
    )
    on_env = [f for f in findings if f.line == 2]
    assert [(f.category, f.severity) for f in on_env] == [
        ("secret-in-dockerfile", Severity.CRITICAL)
    ]


def test_keyword_inside_a_long_identifier_is_still_scanned():
    text = 'legacy_database_password_value = "Zq8vLw2mXr7Tn4Kp"\nother = 1\n'
    assert [f.line for f in secrets("app/legacy.py", text)] == [1]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (
            "k8s/worker/sealedsecret.yaml",
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: worker\n"
            "spec:\n  encryptedData:\n    AMQP_PASSWORD: AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq"
            "Qx8vLw2mXr7Tn4KpZq8vLw2mXr7Tn4Kp==\n",
        ),
        (
            "secrets/prod.yaml",
            "db_password: ENC[AES256_GCM,data:Qx8vLw2mXr7Tn4Kp,iv:abc,tag:def,type:str]\n"
            "sops:\n  version: 3.8.1\n",
        ),
    ],
)
def test_encrypted_secrets_meant_to_be_committed_do_not_fire(path, text):
    assert secrets(path, text) == []


def test_lines_after_length_changing_lowercase_still_map_to_their_numbers():
    text = "# İİİİ İstanbul\n" * 3 + f'AWS = "{AWS_KEY}"\n'
    assert [f.line for f in secrets("app/tr.py", text)] == [4]
