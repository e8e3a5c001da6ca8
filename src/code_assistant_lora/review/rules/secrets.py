"""The secrets pack: credentials committed in any file.

Detection is detect-secrets' own plugins (token formats, private keys, secret keywords, entropy),
run per added line; this module only decides what is worth a finding. Precision comes from context
detect-secrets leaves to the caller: placeholders and templated values (`changeme`, `${DB_PASSWORD}`,
`<token>`) are not secrets, values read from the environment are not literals, a private-key
header needs a key body after it, a Supabase `anon` JWT is public by design, and entropy alone only
counts when the value is assigned to a credential-sounding name. Keyword-only hits in test code are
fixtures; token formats and private keys count everywhere.

No finding ever carries the secret: rationales name the kind of credential, never its value.
detect-secrets (and the `requests` it imports) is loaded only when an added line could hold a
secret, so a typical commit does not pay for it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ...findings import Severity
from ...lockfiles import LOCK_FILES
from ...secret_plugins import token_plugins
from ..rule import FileUnderReview, Hit, ReviewContext, Rule, RulePack
from .python import is_test_path

_ENV_TEMPLATE_SUFFIXES = (
    ".example",
    ".sample",
    ".template",
    ".tmpl",
    ".dist",
    ".defaults",
    ".default",
    ".schema",
    ".test",
    ".ci",
)
_MAX_LINE = 4000  # minified bundles and data blobs: not worth scanning per line

# A cheap superset of what the detectors below can match: lines without any of these never reach
# detect-secrets. Token formats are long runs of token characters with a digit somewhere;
# keyword hits carry one of detect-secrets' denylisted words; URL credentials carry `user:pass@`;
# entropy-only hits need a secret-sounding name and a long quoted value.
_WORDS = (
    r"(?:api|auth|service|account|db|database|priv|private|client)_?key|(?:db|database|key)_?pass"
    r"|password|passwd|pwd|secret|contrase|bearer|://[^/\s:@]+:[^/\s@]+@"
)
# Matched against lowered text: case-sensitive patterns are several times faster than re.I here.
_WORD = re.compile(_WORDS)
_CANDIDATE = re.compile(_WORDS + r"|(?P<run>[a-z0-9+/_=\-]{20,})")


def _candidate_lines(file: FileUnderReview) -> list[tuple[int, str]]:
    """The added lines worth scanning, found with one regex pass over all of them."""
    added = [(n, line) for n, line in file.added() if len(line) <= _MAX_LINE]
    if not added:
        return []
    lowered = [line.lower() for _, line in added]  # lowering may change a line's length
    text = "\n".join(lowered)
    starts = [0]
    for line in lowered[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    picked: dict[int, None] = {}
    for match in _CANDIDATE.finditer(text):
        run = match.group("run")
        if run is not None and not any(c.isdigit() for c in run) and not _WORD.search(run):
            continue
        picked[bisect_right(starts, match.start()) - 1] = None
    return [added[index] for index in picked]


# Credential-sounding names for entropy-only hits (the keyword detector covers password/secret/*key).
_SECRET_NAME = re.compile(
    r"(?:^|[^a-z])(?:api|access|auth|bearer|client|private|secret|signing|session|refresh|id|app)?"
    r"_?(?:key|token|secret|password|passwd|pwd|credentials?|auth|signature|salt|pat)(?:$|[^a-z])",
    re.I,
)
# Names that hold a reference to a secret, not the secret (`SECRET_NAME`, `token_url`, `key_id`).
_REFERENCE_NAME = re.compile(
    r"(?:_|-|\b)(?:name|names|id|ids|path|file|dir|url|uri|endpoint|env|var|field|header|length|len|"
    r"ttl|expiry|expires|timeout|min|max|type|arn|ref|label|prompt|placeholder|regex|pattern|policy|"
    r"version|count|prefix|suffix|hint|format|mode|scope|scopes|algorithm|alg|kind|provider|store|"
    r"manager|location|key_id|column|param|query|selector|hash|checksum|digest)s?$|"
    r"^(?:is|has|use|enable|show|allow)_",
    re.I,
)
_ASSIGNED_NAME = re.compile(
    r"""["'`]?([A-Za-z_$][\w$.\-]*)["'`\]]*\s*(?::=|=>|==|=|:)\s*(?:[@fbrRuU]{0,2}["'`])?\s*$"""
)
_PLACEHOLDER_WORDS = re.compile(
    r"^(?:x+|\*+|\.+|-+|_+|#+|0+|1234.*|abc.*|test.*|dummy.*|fake.*|mock.*|sample.*|example.*|"
    r"change[-_ ]?me.*|changeit|replace[-_ ]?me.*|your[-_ ].*|my[-_ ]?(?:secret|password|token|key).*|"
    r"redacted|hidden|placeholder|none|null|nil|undefined|true|false|yes|no|on|off|todo|tbd|fixme|"
    r"secret|password|passwd|pwd|token|key|api[-_ ]?key|env|required|optional|string|str|value|"
    r"insert.*|enter.*|put[-_ ].*|some[-_ ].*|foo.*|bar.*|baz.*|s3cr3t|hunter2|letmein|admin|root|"
    r"guest|user|username|postgres|mysql|default|empty|notsecret|not[-_ ]a[-_ ]secret.*)$",
    re.I,
)
# Lines that read a secret from the environment or a secret store hold no secret themselves
# (shared with the training secret scan).
ENV_LOOKUP = re.compile(
    r"os\.environ|os\.getenv|getenv\(|process\.env|import\.meta\.env|ENV\[|\$ENV\{|"
    r"System\.getenv|env\(|secrets\.|vault\(|config\(|settings\.|\$\{\{|\{\{",
)
_BEARER = re.compile(r"""["'`]\s*(?:Bearer|Token|token)\s+([A-Za-z0-9\-._~+/]{24,}=*)\s*["'`]""")
_KEY_BODY = re.compile(r"[A-Za-z0-9+/=]{40,}")
_BEGIN_KEY = re.compile(
    r"-----BEGIN (?:(?:RSA|DSA|EC|OPENSSH|ENCRYPTED|SSH2 ENCRYPTED) )?PRIVATE KEY(?: BLOCK)?-----"
    r"|-----BEGIN PGP PRIVATE KEY BLOCK-----|PuTTY-User-Key-File-\d"
)
_END_KEY = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|Private-MAC:")


@dataclass(frozen=True)
class _Detected:
    kind: str  # detect-secrets' secret type, e.g. "AWS Access Key"
    value: str
    entropy_only: bool = False
    keyword: bool = False


class _Detectors:
    """detect-secrets' plugins, built once on first use."""

    def __init__(self) -> None:
        from detect_secrets.filters import heuristic
        from detect_secrets.plugins.basic_auth import BasicAuthDetector
        from detect_secrets.plugins.high_entropy_strings import (
            Base64HighEntropyString,
            HexHighEntropyString,
        )
        from detect_secrets.plugins.keyword import REGEX_BY_FILETYPE, KeywordDetector
        from detect_secrets.util.filetype import determine_file_type

        self.tokens = token_plugins()
        self.basic_auth = BasicAuthDetector()
        self.keyword = KeywordDetector()
        self.entropy = [Base64HighEntropyString(limit=4.5), HexHighEntropyString(limit=3.0)]
        self.heuristic = heuristic
        self.keyword_regexes = REGEX_BY_FILETYPE
        self.file_type = determine_file_type

    def keyword_groups(self, path: str) -> dict | None:
        return self.keyword_regexes.get(self.file_type(path))

    def scan(self, path: str, line: str) -> Iterator[_Detected]:
        for plugin in self.tokens:
            for value in plugin.analyze_string(line):
                yield _Detected(plugin.secret_type, value)
        for value in self.basic_auth.analyze_string(line):
            yield _Detected("Basic Auth Credentials", value, keyword=True)
        for value in self.keyword.analyze_string(line, self.keyword_groups(path)):
            yield _Detected("Secret Keyword", value, keyword=True)
        for plugin in self.entropy:
            for value in plugin.analyze_string(line):
                if plugin.calculate_shannon_entropy(value) > plugin.entropy_limit:
                    yield _Detected(plugin.secret_type, value, entropy_only=True)

    def is_noise(self, value: str, line: str) -> bool:
        h = self.heuristic
        return (
            h.is_templated_secret(value)
            or h.is_prefixed_with_dollar_sign(value)
            or h.is_sequential_string(value)
            or h.is_potential_uuid(value)
            or h.is_not_alphanumeric_string(value)
            or h.is_likely_id_string(value, line)
        )


@lru_cache(maxsize=1)
def _detectors() -> _Detectors:
    return _Detectors()


# Lowercase words joined by `-`, `_` or `.` (`hardcoded-secret`, `user.password`, `api_key_header`):
# identifiers, setting names and slugs, not credentials.
_SLUG = re.compile(r"^[a-z]+(?:[-_.][a-z]+)+$")


def _is_placeholder(value: str) -> bool:
    stripped = value.strip().strip("\"'`")
    if len(stripped) < 6 or _PLACEHOLDER_WORDS.match(stripped) or _SLUG.match(stripped):
        return True
    # `<your-token>`, `%(password)s`, `{{ .Values.x }}`, `$(cat file)`, `***redacted***`
    return bool(re.search(r"[<>{}]|%\(|\$\(|\*{3}", stripped)) or stripped.lower().startswith(
        ("xxx", "your", "<", "${", "env:", "vault:", "op://", "arn:", "projects/", "enc[")
    )


_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _assigned_name(line: str, value: str) -> str | None:
    """The name a value is assigned to on this line (`API_TOKEN = "..."` -> `API_TOKEN`)."""
    at = line.find(value)
    if at < 0:
        return None
    match = _ASSIGNED_NAME.search(line[:at])
    return match.group(1).rsplit(".", 1)[-1] if match else None


def _jwt_claims(token: str) -> dict[str, Any] | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError):
        return None
    return claims if isinstance(claims, dict) else None


_KIND_NAMES = {
    "Secret Keyword": "a hard-coded credential",
    "Basic Auth Credentials": "a password embedded in a URL",
    "Base64 High Entropy String": "a high-entropy secret value",
    "Hex High Entropy String": "a high-entropy secret value",
}


def _credential_hits(file: FileUnderReview, number: int, line: str) -> Iterator[Hit]:
    """Known token formats first (one finding per line); keyword and entropy hits when no
    format matched."""
    detectors = _detectors()
    in_tests = is_test_path(file.path)
    env_lookup = bool(ENV_LOOKUP.search(line))
    token_kinds: list[str] = []
    generic: list[_Detected] = []
    for found in detectors.scan(file.path, line):
        if found.kind == "JSON Web Token":
            claims = _jwt_claims(found.value)
            if claims is None or claims.get("role") == "anon":
                continue  # Supabase's anon key is shipped to browsers by design
        if found.entropy_only or found.keyword:
            generic.append(found)
        elif not detectors.is_noise(found.value, line) or found.kind == "AWS Access Key":
            token_kinds.append(found.kind)
    if token_kinds:
        kinds = ", ".join(sorted(set(token_kinds)))
        yield Hit(
            number,
            rationale=f"A credential in a known token format ({kinds}) is committed here: anyone with read access to the repository or its history can use it.",
            severity=Severity.CRITICAL,
        )
        return
    if in_tests or env_lookup or detectors.heuristic.is_indirect_reference(line):
        return
    for found in generic:
        value = found.value
        if _is_placeholder(value) or detectors.is_noise(value, line):
            continue
        name = _assigned_name(line, value) or ""
        words = _CAMEL_BOUNDARY.sub("_", name)  # `secretName` -> `secret_Name` for the word rules
        if found.kind == "Basic Auth Credentials":
            if re.search(
                r"@(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\]|db|postgres|redis|mysql)\b", line
            ):
                continue  # local development services
        elif found.entropy_only:
            if not words or not _SECRET_NAME.search(words) or _REFERENCE_NAME.search(words):
                continue
        elif words and _REFERENCE_NAME.search(words):
            continue
        yield Hit(
            number,
            rationale=f"{_KIND_NAMES.get(found.kind, 'A secret').capitalize()} is committed here"
            + (f" (assigned to `{name}`)" if name else "")
            + ": it is readable by anyone with the repository or its history, and rotating it means a code change.",
        )
        return
    bearer = _BEARER.search(line)
    if bearer and not _is_placeholder(bearer.group(1)):
        yield Hit(
            number,
            rationale="A bearer token is hard-coded in an Authorization header: anyone with the repository can call the API as this client.",
        )


def _scannable(file: FileUnderReview) -> bool:
    return (
        file.text is not None
        and file.name not in LOCK_FILES
        and not file.name.endswith((".min.js", ".min.css", ".map", ".svg"))
    )


# Ciphertext meant to be committed: Bitnami SealedSecrets and SOPS-encrypted files.
_ENCRYPTED_MANIFEST = re.compile(r"^kind:\s*SealedSecret\s*$|^sops:\s*$", re.M)


def check_hardcoded_credential(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """API tokens in known formats (AWS, GitHub, GitLab, Slack, Stripe, OpenAI, npm, PyPI, ...),
    passwords in URLs, and secret-named assignments of literal values (detect-secrets' keyword and
    entropy plugins), each filtered for placeholders, templates and environment lookups."""
    if not _scannable(file) or _ENCRYPTED_MANIFEST.search(file.text or ""):
        return
    for number, line in _candidate_lines(file):
        if not _BEGIN_KEY.search(line):
            yield from _credential_hits(file, number, line)


def check_private_key(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """A private key block (PEM, OpenSSH, PGP, PuTTY): the armour line followed by a key body,
    either on the next lines or escaped in the same string (`"-----BEGIN ...-----\\nMIIE..."`).
    A header alone (a parser matching on it, docs) does not fire."""
    if not _scannable(file):
        return
    lines = file.lines
    for number, line in file.added():
        begin = _BEGIN_KEY.search(line)
        if not begin:
            continue
        tail = line[begin.end() :]
        body_lines = [tail.replace("\\n", "\n")]
        end = number
        for later in range(number, min(len(lines), number + 60)):
            body_lines.append(lines[later])
            if _END_KEY.search(lines[later]):
                end = later + 1
                break
        body = "\n".join(body_lines)
        if _KEY_BODY.search(body.replace("\n", "")[:400]) and not re.search(
            r"\.\.\.|<[^>]*>|\{\{", body[:200]
        ):
            yield Hit(number, end_line=end)


_ENV_FILE = re.compile(r"^\.env(?:\.[\w.-]+)?$|^[\w.-]+\.env$")


def is_env_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    if not _ENV_FILE.match(name) or name.lower().endswith(_ENV_TEMPLATE_SUFFIXES):
        return False
    return not name.lower().startswith((".envrc",))


def check_env_file(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """A dotenv file (`.env`, `.env.production`, `prod.env`) added or changed: it holds the
    environment's real values and belongs in .gitignore. Templates (`.env.example`,
    `.env.sample`, `.env.template`) are how settings should be documented and do not fire; nor
    does a file with nothing but comments and empty values."""
    if file.is_deleted or file.text is None or not is_env_file(file.path):
        return
    values = [
        n
        for n, text in enumerate(file.lines, 1)
        if re.match(r"^\s*(?:export\s+)?[A-Za-z_][\w.]*\s*=\s*\S", text)
        and not re.match(r"^\s*(?:export\s+)?[A-Za-z_][\w.]*\s*=\s*(?:\"\"|'')?\s*(?:#.*)?$", text)
    ]
    if not values:
        return
    first_changed = next((n for n in values if file.is_changed(n)), None)
    if first_changed is None:
        return
    yield Hit(first_changed if not file.is_new else values[0], anywhere=True)


def _everything(path: str) -> bool:
    return "/node_modules/" not in f"/{path}"


PACK = RulePack(
    name="secrets",
    matches=_everything,
    checks=(
        (
            Rule(
                id="secrets.private-key",
                category="private-key",
                severity=Severity.CRITICAL,
                rationale="A private key is committed: anyone who can read the repository (or any clone or fork of its history) can impersonate its owner.",
                suggested_fix="Remove the key from the change, revoke and regenerate it, and load it at run time from a secret store or a file outside the repository (add the path to .gitignore).",
            ),
            check_private_key,
        ),
        (
            Rule(
                id="secrets.hardcoded-credential",
                category="hardcoded-secret",
                severity=Severity.HIGH,
                rationale="A credential is committed in source: it is readable by anyone with the repository or its history.",
                suggested_fix='Rotate the credential, remove it from the change, and read it at run time from the environment or a secret manager (e.g. `os.environ["API_TOKEN"]`, CI secrets).',
            ),
            check_hardcoded_credential,
        ),
        (
            Rule(
                id="secrets.env-file-committed",
                category="committed-env-file",
                severity=Severity.HIGH,
                rationale="A dotenv file with values is committed: these files hold an environment's real credentials and end up in every clone.",
                suggested_fix="Remove the file from version control (`git rm --cached`), add it to .gitignore, rotate any credentials it held, and commit a `.env.example` with placeholder values instead.",
            ),
            check_env_file,
        ),
    ),
)
