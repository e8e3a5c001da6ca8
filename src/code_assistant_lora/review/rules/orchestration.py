"""The orchestration rule pack: Kubernetes manifests and Docker Compose files.

The pack claims every YAML path outside `.github/workflows/` (the docker_ci pack's), vendored
packages and test folders, and decides per file by content, once per text (cached): a document
whose root mapping has `apiVersion` and `kind` is a Kubernetes object (kustomization files are
recognised by name too), and a root `services:` mapping whose entries have `image` or `build` (or
any `services:` mapping in a `docker-compose*.yml` / `compose*.yml`) is a Compose file. A Helm
values file (`values*.yaml`) is read for the chart conventions that render into the pod spec
(`image.tag`, `*securityContext`, `hostNetwork`, `capabilities`, `hostPath`, env lists). Other YAML
(CI configs, OpenAPI specs, app configs) is left alone.

Each document between `---` markers is read with PyYAML's composer, which keeps the line of every
key and value, so comments never fire and findings land on the offending key. Helm templates are
read after a line-preserving pass: lines holding only `{{ ... }}` directives are blanked (and
remembered, since they may render anything) and inline expressions become a placeholder scalar that
no rule treats as a value. A document that is not a whole object (a syntax error, or the partial
text of a diff, where unknown lines are blank) is read as blank-separated, dedent-split fragments
when the file shows it is a manifest. Rules keyed on unambiguous keys (`privileged: true`,
`hostNetwork: true`) apply to fragments as they are; rules that need the whole block (missing
resource limits, whether a Compose service builds its image) only judge blocks the fragment shows
from start to end.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ...findings import Severity
from ..rule import FileUnderReview, Hit, ReviewContext, Rule, RulePack

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

PLACEHOLDER = "__template_expression__"
_TEMPLATE = re.compile(r"\{\{.*?\}\}")
_DOC_MARKER = re.compile(r"(?:---|\.\.\.)(?:[ \t].*)?$")
_INDENT = re.compile(r"[ \t]*")
_RELEVANT = re.compile(
    r"^[ \t]*(?:-[ \t]+)?(?:apiVersion|kind|services|containers|initContainers)[ \t]*:", re.M
)
_K8S_API = re.compile(r"^apiVersion[ \t]*:[ \t]*\S", re.M)
_K8S_KIND = re.compile(r"^kind[ \t]*:[ \t]*\S", re.M)
# Keys only a pod spec has: evidence that a fragment (a diff hunk, a broken file) is a manifest.
_K8S_KEYS = re.compile(
    r"^[ \t]*(?:-[ \t]+)?(?:containers|initContainers|securityContext|allowPrivilegeEscalation|"
    r"hostNetwork|hostPID|hostIPC|hostPath|imagePullPolicy|containerPort|valueFrom|secretKeyRef|"
    r"runAsNonRoot|serviceAccountName|livenessProbe|readinessProbe|volumeMounts)[ \t]*:"
    r"|^[ \t]*env[ \t]*:[ \t]*\r?\n[ \t]*-[ \t]+name[ \t]*:"
    r"|^[ \t]*-[ \t]+name[ \t]*:.*\r?\n[ \t]+image[ \t]*:",
    re.M,
)
# Folders that hold manifests: with partial text (a diff's hunks) they are evidence enough.
_MANIFEST_FOLDERS = frozenset(
    {
        "k8s",
        "kube",
        "kubernetes",
        "manifests",
        "deploy",
        "deployment",
        "deployments",
        "helm",
        "charts",
        "chart",
        "templates",
        "kustomize",
        "overlays",
        "base",
        "argocd",
        "flux",
        "gitops",
        "clusters",
    }
)
_PARTIAL = re.compile(r"\A[ \t]*\r?\n|\n[ \t]*\r?\n[ \t]*\r?\n")
_HELM_VALUES_NAME = re.compile(r"^values(?:[.-][^/]*)?\.ya?ml$")
_COMPOSE_SERVICES = re.compile(r"^services[ \t]*:[ \t]*(?:#.*)?$", re.M)
_COMPOSE_NAME = re.compile(r"^(?:docker-)?compose(?:[.-][^/]*)?\.ya?ml$")
_KUSTOMIZATION_NAME = re.compile(r"^kustomization\.ya?ml$")
_REMOVED_LIMITS = re.compile(r"^\s*limits\s*:")

WORKLOAD_KINDS = frozenset(
    {
        "Pod",
        "PodTemplate",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "ReplicationController",
        "Job",
        "CronJob",
        "Rollout",
        "DeploymentConfig",
    }
)
_CONTAINER_LISTS = frozenset({"containers", "initContainers", "ephemeralContainers"})

# Capabilities that hand a container control over the node: critical ones are privileged in all
# but name.
_CAPABILITIES = {
    "ALL": Severity.CRITICAL,
    "SYS_ADMIN": Severity.CRITICAL,
    "NET_ADMIN": Severity.HIGH,
    "SYS_PTRACE": Severity.HIGH,
    "SYS_MODULE": Severity.HIGH,
    "SYS_RAWIO": Severity.HIGH,
    "SYS_BOOT": Severity.HIGH,
    "DAC_READ_SEARCH": Severity.HIGH,
    "BPF": Severity.HIGH,
    "MAC_ADMIN": Severity.HIGH,
    "MAC_OVERRIDE": Severity.HIGH,
}

_RUNTIME_SOCKETS = ("docker.sock", "containerd.sock", "crio.sock", "podman.sock", "dockershim.sock")
# Folders that hold a runtime socket: mounting them hands over the socket, and `:ro` does not stop
# connecting to it.
_RUNTIME_SOCKET_DIRS = frozenset(
    {
        "/run",
        "/var/run",
        "/run/docker",
        "/var/run/docker",
        "/run/containerd",
        "/var/run/containerd",
        "/run/crio",
        "/var/run/crio",
        "/run/podman",
        "/var/run/podman",
    }
)
# Host paths that expose the node even read-only, and those that are only dangerous writable (a
# read-only /proc or /sys is what node exporters mount).
_SENSITIVE_ALWAYS = frozenset(
    {
        "/",
        "/etc",
        "/root",
        "/root/.ssh",
        "/etc/shadow",
        "/etc/sudoers",
        "/etc/ssh",
        "/etc/kubernetes",
        "/var/lib/kubelet",
    }
)
_SENSITIVE_WRITABLE = frozenset(
    {
        "/proc",
        "/sys",
        "/dev",
        "/boot",
        "/usr",
        "/bin",
        "/sbin",
        "/lib",
        "/lib64",
        "/run",
        "/var",
        "/var/run",
        "/var/lib",
        "/var/lib/docker",
        "/home",
    }
)

_IMAGE_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@+-]*")
_ROOT_USER = re.compile(r"(?:root|0)(?::(?:root|0|[A-Za-z_][\w-]*|\d+))?")

# Environment variable names: words that make a name secret, and words that make it a setting
# about a secret (a length, a TTL, a file or reference holding it) rather than the secret itself.
_NAME_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_SECRET_WORDS = frozenset({"PASSWORD", "PASSWD", "PASS", "PASSPHRASE", "SECRET", "TOKEN", "APIKEY"})
_SECRET_SUFFIXES = ("PASSWORD", "PASSWD", "SECRET", "TOKEN", "APIKEY")
_KEY_QUALIFIERS = frozenset(
    {
        "API",
        "SECRET",
        "PRIVATE",
        "ACCESS",
        "ENCRYPTION",
        "SIGNING",
        "MASTER",
        "CLIENT",
        "APP",
        "AUTH",
        "SERVICE",
        "LICENSE",
        "ADMIN",
        "WEBHOOK",
        "SESSION",
        "JWT",
        "HMAC",
    }
)
_SETTING_WORDS = frozenset(
    {
        "MIN",
        "MAX",
        "LENGTH",
        "LEN",
        "TTL",
        "EXPIRY",
        "EXPIRE",
        "EXPIRES",
        "EXPIRATION",
        "TIMEOUT",
        "LIFETIME",
        "AGE",
        "FILE",
        "PATH",
        "DIR",
        "REF",
        "NAME",
        "ID",
        "URL",
        "URI",
        "ENDPOINT",
        "HOST",
        "PORT",
        "HEADER",
        "ENABLED",
        "ENABLE",
        "DISABLED",
        "DISABLE",
        "REQUIRED",
        "ALGORITHM",
        "ALG",
        "TYPE",
        "FIELD",
        "ROTATION",
        "POLICY",
        "ROUNDS",
        "COST",
        "ITERATIONS",
        "USER",
        "USERNAME",
        "LOGIN",
        "ALLOW",
        "RANDOM",
        "EMPTY",
        "GENERATE",
        "LOCATION",
        "MOUNT",
        "PROVIDER",
        "ISSUER",
        "AUDIENCE",
        "SCOPE",
        "KIND",
        "MODE",
        "METHOD",
        "FORMAT",
        "VERSION",
        "HASH",
        "HASHED",
        "RESET",
        "COMPLEXITY",
        "STRENGTH",
        "PREFIX",
        "SUFFIX",
        "PATTERN",
        "REGEX",
        "COUNT",
        "SIZE",
        "INTERVAL",
        "PERIOD",
        "DURATION",
        "SECONDS",
        "MINUTES",
        "HOURS",
        "DAYS",
    }
)
_NOT_A_VALUE = frozenset({"true", "false", "yes", "no", "on", "off", "null", "none", "~"})
_PLACEHOLDER_VALUE = re.compile(
    r"(?:x+|\*+|\.+|-+|<[^>]*>|your[-_ ].*|replace[-_ ]?me|placeholder|redacted|todo|tbd|"
    r"(?:file|vault|secret|ref|env)[:+].*)",
    re.I,
)
_SUBSTITUTION = re.compile(r"\$(?:\{|\(|[A-Za-z_])")
_URL_CREDENTIALS = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:([^@\s/]+)@")


# --- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Doc:
    """One YAML document (or fragment) of a manifest. `kind` is the Kubernetes kind when the
    document is a whole object; `fragment` marks a piece whose place in the object is unknown."""

    root: Node
    offset: int  # lines before the parsed text in the file
    flavour: str  # "k8s" | "compose"
    kind: str | None
    fragment: bool
    # Whether a known, less indented line follows a fragment (so its last block is complete
    # rather than cut off by an unknown part of the file).
    closed: bool = False

    @cached_property
    def mappings(self) -> tuple[tuple[MappingNode, tuple[str, ...], str | None], ...]:
        """Every mapping with its key path and kind (see `_walk`), walked once per document."""
        return tuple(_walk(self))

    def line(self, node: Node) -> int:
        return node.start_mark.line + 1 + self.offset

    def end_line(self, node: Node) -> int:
        mark = node.end_mark
        return mark.line + self.offset + (1 if mark.column else 0)


@dataclass(frozen=True)
class Manifest:
    docs: tuple[Doc, ...]
    templated: frozenset[int]  # lines that held only template directives (may render anything)
    limit_range: bool  # a LimitRange in the same file gives containers default limits


_EMPTY = Manifest((), frozenset(), False)


def _untemplate(text: str) -> tuple[str, frozenset[int]]:
    """Blank template-only lines and replace inline `{{ ... }}` with a placeholder, keeping lines."""
    if "{{" not in text:
        return text, frozenset()
    lines = text.split("\n")
    blanked: set[int] = set()
    for index, line in enumerate(lines):
        if "{{" not in line:
            continue
        if not _TEMPLATE.sub("", line).strip():
            lines[index] = ""
            blanked.add(index + 1)
        else:
            lines[index] = _TEMPLATE.sub(PLACEHOLDER, line)
    return "\n".join(lines), frozenset(blanked)


def _compose(text: str) -> list[Node] | None:
    try:
        return [node for node in yaml.compose_all(text, Loader=_LOADER) if node is not None]
    except Exception:  # YAMLError, and RecursionError/MemoryError on pathological nesting
        return None


def _chunks(lines: list[str], start: int, end: int) -> Iterator[tuple[int, int, bool]]:
    """Split lines[start:end] at blank lines and at lines indented less than their run's first.
    Each run says whether it is closed: followed (directly, or after one blank line) by a line
    indented less than its first, so its last block is known to end there. In a diff's partial
    text the unknown lines are blank too, and a longer blank stretch may hide more of the block."""
    index = start
    while index < end:
        if not lines[index].strip():
            index += 1
            continue
        first = index
        indent = len(_INDENT.match(lines[index]).group())
        index += 1
        while index < end and lines[index].strip():
            stripped = lines[index].lstrip(" \t")
            if not stripped.startswith("#") and len(lines[index]) - len(stripped) < indent:
                break
            index += 1
        after = index + 1 if index < end and not lines[index].strip() else index
        closed = (
            after < end
            and bool(lines[after].strip())
            and len(_INDENT.match(lines[after]).group()) < indent
        )
        yield first, index, closed


def _scalar(node: Node | None) -> str | None:
    return node.value if isinstance(node, ScalarNode) else None


def _pairs(node: Node | None) -> Iterator[tuple[ScalarNode, Node]]:
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(key, ScalarNode):
                yield key, value


def _get(node: Node | None, key: str) -> Node | None:
    for name, value in _pairs(node):
        if name.value == key:
            return value
    return None


def _key(node: Node | None, key: str) -> ScalarNode | None:
    for name, _ in _pairs(node):
        if name.value == key:
            return name
    return None


def _kind(root: Node) -> str | None:
    if _scalar(_get(root, "apiVersion")) is not None:
        kind = _scalar(_get(root, "kind"))
        if kind and PLACEHOLDER not in kind:
            return kind.strip()
    return None


def _is_compose_root(root: Node, compose_name: bool) -> bool:
    services = _get(root, "services")
    if compose_name and isinstance(services, MappingNode):
        return True  # override files only add settings to services defined elsewhere
    return any(
        _get(service, "image") is not None or _get(service, "build") is not None
        for _, service in _pairs(services)
    )


@lru_cache(maxsize=64)
def manifest(
    text: str,
    compose_name: bool = False,
    kustomization: bool = False,
    helm_values: bool = False,
    manifest_folder: bool = False,
) -> Manifest:
    """The file's documents classified as Kubernetes or Compose (cached per text)."""
    if not (
        compose_name
        or kustomization
        or helm_values
        or manifest_folder
        or _RELEVANT.search(text)
        or _K8S_KEYS.search(text)
    ):
        return _EMPTY
    clean, templated = _untemplate(text)
    k8s_text = bool(
        kustomization
        or (_K8S_API.search(clean) and _K8S_KIND.search(clean))
        or (not helm_values and (_K8S_KEYS.search(clean) or manifest_folder))
    )
    compose_text = compose_name or bool(_COMPOSE_SERVICES.search(clean))
    if helm_values and not compose_text and not k8s_text:
        return _values_manifest(clean, templated)
    lines = clean.split("\n")
    bounds = [i for i, line in enumerate(lines) if _DOC_MARKER.match(line)]
    docs: list[Doc] = []
    start = 0
    for end in [*bounds, len(lines)]:
        if start < end:
            docs.extend(
                _read_document(
                    lines, start, end, k8s_text, compose_text, compose_name, kustomization
                )
            )
        start = end + 1
    limit_range = any(doc.kind == "LimitRange" for doc in docs)
    return Manifest(tuple(docs), templated, limit_range)


def _values_manifest(clean: str, templated: frozenset[int]) -> Manifest:
    """A Helm values file: its documents (or, when it does not parse, its fragments) as `values`
    documents, which only the checks of conventional chart keys read."""
    lines = clean.split("\n")
    roots = _compose(clean)
    if roots is not None:
        docs = tuple(Doc(root, 0, "values", None, False) for root in roots)
    else:
        docs = tuple(
            Doc(root, first, "values", None, True, closed)
            for first, last, closed in _chunks(lines, 0, len(lines))
            for root in _compose("\n".join(lines[first:last])) or ()
        )
    return Manifest(docs, templated, False)


def _read_document(
    lines: list[str],
    start: int,
    end: int,
    k8s_text: bool,
    compose_text: bool,
    compose_name: bool,
    kustomization: bool,
) -> Iterator[Doc]:
    roots = _compose("\n".join(lines[start:end]))
    unknown = roots is None
    for root in roots or ():
        kind = _kind(root) or ("Kustomization" if kustomization else None)
        if kind:
            yield Doc(root, start, "k8s", kind, False)
        elif _is_compose_root(root, compose_name):
            yield Doc(root, start, "compose", None, False)
        elif _get(root, "services") is None:
            # Not an object: a diff's partial text (it starts blank or has blank stretches) is
            # read as fragments; whole YAML of another sort (a CI config, a playbook) is not ours.
            # (A root `services:` that is not Compose's is GitLab CI or similar.)
            unknown = unknown or bool(_PARTIAL.search("\n".join(lines[start:end])))
    if not unknown or not (k8s_text or compose_text):
        return
    # Not a whole object: read it as fragments whose extent is known.
    flavour = "k8s" if k8s_text else "compose"
    for first, last, closed in _chunks(lines, start, end):
        for root in _compose("\n".join(lines[first:last])) or ():
            yield Doc(root, first, flavour, None, True, closed)


def _manifest_of(file: FileUnderReview) -> Manifest:
    if not file.text:
        return _EMPTY
    name = file.name.lower()
    return manifest(
        file.text,
        bool(_COMPOSE_NAME.match(name)),
        bool(_KUSTOMIZATION_NAME.match(name)),
        bool(_HELM_VALUES_NAME.match(name)),
        bool(_MANIFEST_FOLDERS.intersection(file.path.lower().split("/")[:-1])),
    )


def _walk(doc: Doc) -> Iterator[tuple[MappingNode, tuple[str, ...], str | None]]:
    """Every mapping of a document with the keys leading to it (`[]` for a sequence item) and the
    kind of the nearest enclosing object, in document order (iterative: no recursion limit)."""
    seen: set[int] = set()
    stack: list[tuple[Node, tuple[str, ...], str | None]] = [(doc.root, (), doc.kind)]
    while stack:
        node, path, kind = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            kind = _kind(node) or kind
            yield node, path, kind
            for key, value in reversed(node.value):
                name = key.value if isinstance(key, ScalarNode) else "?"
                stack.append((value, (*path, name), kind))
        elif isinstance(node, SequenceNode):
            stack.extend((item, (*path, "[]"), kind) for item in reversed(node.value))


def _docs(file: FileUnderReview, flavour: str) -> Iterator[tuple[Manifest, Doc]]:
    """The file's documents of one flavour; CRDs are skipped (their schemas name every pod field)."""
    found = _manifest_of(file)
    for doc in found.docs:
        if doc.flavour == flavour and doc.kind != "CustomResourceDefinition":
            yield found, doc


def _true(node: Node | None) -> bool:
    value = _scalar(node)
    if value is None:
        return False
    value = value.strip().lower()
    return value == "true" or (value in ("yes", "on") and node.tag.endswith(":bool"))


def _false(node: Node | None) -> bool:
    value = _scalar(node)
    return value is not None and value.strip().lower() in ("false", "no", "off")


def _clean(value: str | None) -> str | None:
    """A scalar's text when it is a literal (not templated or substituted)."""
    if value is None or PLACEHOLDER in value:
        return None
    return value.strip()


def _first_changed(file: FileUnderReview, candidates: Iterable[int | None]) -> int | None:
    lines = [line for line in candidates if line]
    for line in lines:
        if file.is_changed(line):
            return line
    return lines[0] if lines else None


def _services(doc: Doc) -> Iterator[tuple[str | None, MappingNode]]:
    """The service-like mappings of a Compose document: each service and each top-level `x-*`
    extension (shared blocks merged in with `<<:`); in a fragment, every mapping."""
    if doc.fragment:
        for node, _, _ in doc.mappings:
            yield None, node
        return
    for key, service in _pairs(_get(doc.root, "services")):
        if isinstance(service, MappingNode):
            yield key.value, service
    for key, value in _pairs(doc.root):
        if key.value.startswith("x-") and isinstance(value, MappingNode):
            yield None, value


def _whole_services(doc: Doc) -> Iterator[tuple[str, MappingNode]]:
    """The services of a Compose document; in a fragment, only those it shows entirely (from
    their name to a known line after them), so settings such as `build:` cannot hide elsewhere."""
    if not doc.fragment:
        for key, service in _pairs(_get(doc.root, "services")):
            if isinstance(service, MappingNode):
                yield key.value, service
        return
    for level in (doc.root, _get(doc.root, "services")):
        for key, service in _pairs(level):
            if isinstance(service, MappingNode) and _complete(doc, service):
                yield key.value, service


def _where(service: str | None) -> str:
    return f"The Compose service `{service}`" if service else "This Compose service"


# --- privileged containers --------------------------------------------------------------------------


def _security_contexts(doc: Doc) -> Iterator[MappingNode]:
    """The securityContext mappings of a manifest (every mapping of a fragment: the keys these
    checks read are unambiguous), or of a Helm values file (`securityContext`,
    `podSecurityContext`, `containerSecurityContext`, ... and a fragment's unplaced root)."""
    for node, path, _ in doc.mappings:
        if doc.flavour == "values":
            if (path and path[-1].lower().endswith("securitycontext")) or (
                doc.fragment and not path
            ):
                yield node
        elif (path and path[-1] == "securityContext") or doc.fragment:
            yield node


def _pod_docs(file: FileUnderReview) -> Iterator[Doc]:
    """Kubernetes documents and Helm values documents (which render into pod specs)."""
    for _, doc in _docs(file, "k8s"):
        yield doc
    for _, doc in _docs(file, "values"):
        yield doc


def check_privileged(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """`securityContext.privileged: true` (Kubernetes) or `privileged: true` (Compose): the
    container gets every capability and the host's devices, so a compromise of it is root on the
    node. Helm values' securityContext blocks count too."""
    for doc in _pod_docs(file):
        for node in _security_contexts(doc):
            key = _key(node, "privileged")
            if key is not None and _true(_get(node, "privileged")):
                yield Hit(doc.line(key))
    for _, doc in _docs(file, "compose"):
        for service, node in _services(doc):
            key = _key(node, "privileged")
            if key is not None and _true(_get(node, "privileged")):
                yield Hit(
                    doc.line(key),
                    rationale=f"{_where(service)} runs privileged: it gets every capability and the host's devices, so anyone who compromises it is root on the host.",
                    suggested_fix="Remove `privileged: true`; grant only the specific capability the service needs with `cap_add`, or the specific device with `devices:`.",
                )


def check_privilege_escalation(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """`allowPrivilegeEscalation: true`: setuid binaries and file capabilities inside the
    container can raise a process above the user it started as."""
    for doc in _pod_docs(file):
        for node in _security_contexts(doc):
            key = _key(node, "allowPrivilegeEscalation")
            if key is not None and _true(_get(node, "allowPrivilegeEscalation")):
                yield Hit(doc.line(key))


def _capability_hits(doc: Doc, items: Node | None, where: str) -> Iterator[Hit]:
    if not isinstance(items, SequenceNode):
        return
    for item in items.value:
        value = _clean(_scalar(item))
        if not value:
            continue
        name = value.upper().removeprefix("CAP_")
        severity = _CAPABILITIES.get(name)
        if severity is not None:
            yield Hit(
                doc.line(item),
                severity=severity,
                rationale=f"{where} adds the `{name}` capability, which lets a compromised container take over the node (mount filesystems, load kernel modules, reconfigure the network or trace other processes).",
            )


def check_capabilities(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """Dangerous Linux capabilities added to a container: `securityContext.capabilities.add`
    (Kubernetes) or `cap_add` (Compose) with `ALL`, `SYS_ADMIN`, `NET_ADMIN`, `SYS_PTRACE`,
    `SYS_MODULE` and similar. Dropping capabilities and benign additions such as
    `NET_BIND_SERVICE` are fine."""
    for doc in _pod_docs(file):
        for node, path, _ in doc.mappings:
            if (path and path[-1] == "capabilities") or doc.fragment:
                yield from _capability_hits(doc, _get(node, "add"), "The container")
    for _, doc in _docs(file, "compose"):
        for service, node in _services(doc):
            yield from _capability_hits(doc, _get(node, "cap_add"), _where(service))


# --- host namespaces and host paths -------------------------------------------------------------------


_K8S_NAMESPACES = {
    "hostNetwork": "the node's network namespace (every interface and port on the host, and traffic of other pods)",
    "hostPID": "the node's process namespace (it can see and signal every process on the host)",
    "hostIPC": "the node's IPC namespace (shared memory of every process on the host)",
}
_COMPOSE_NAMESPACES = {
    "network_mode": "network",
    "pid": "process",
    "ipc": "IPC",
    "userns_mode": "user",
}


def check_host_namespace(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """`hostNetwork`/`hostPID`/`hostIPC: true` (Kubernetes), `network_mode: host`, `pid: host`,
    `ipc: host`, `userns_mode: host` (Compose): the container shares the host's namespace and
    loses that layer of isolation. In a Helm values file the keys are the chart's switches for
    the pod spec and count wherever they are."""
    for doc in _pod_docs(file):
        for node, _, _ in doc.mappings:
            if doc.flavour == "k8s" and not doc.fragment and _get(node, "containers") is None:
                continue  # a pod spec (policies such as a PodSecurityPolicy use the same keys)
            for key, value in _pairs(node):
                what = _K8S_NAMESPACES.get(key.value)
                if what and _true(value):
                    yield Hit(
                        doc.line(key),
                        rationale=f"`{key.value}: true` puts the pod in {what}: a compromised container reaches the node directly.",
                    )
    for _, doc in _docs(file, "compose"):
        for service, node in _services(doc):
            for key, value in _pairs(node):
                what = _COMPOSE_NAMESPACES.get(key.value)
                text = _clean(_scalar(value))
                if what and text is not None and text.lower() == "host":
                    yield Hit(
                        doc.line(key),
                        rationale=f"{_where(service)} shares the host's {what} namespace (`{key.value}: host`): a compromise of the container reaches the host directly.",
                        suggested_fix="Drop the host mode: publish the needed ports with `ports:`, or share a namespace with another service (`service:<name>`) instead of the host's.",
                    )


def _normal_path(path: str) -> str:
    path = re.sub(r"/+", "/", path.strip())
    return path.rstrip("/") or "/"


def _runtime_socket(path: str) -> bool:
    """Whether mounting the (normalised) host path exposes the container runtime socket."""
    return path.endswith(_RUNTIME_SOCKETS) or path in _RUNTIME_SOCKET_DIRS


def _host_path_severity(path: str, read_only: bool) -> Severity | None:
    """How bad mounting this host path is; None when it is not sensitive."""
    path = _normal_path(path)
    if _runtime_socket(path) or path == "/":
        return Severity.CRITICAL
    if path in _SENSITIVE_ALWAYS or (not read_only and path in _SENSITIVE_WRITABLE):
        return Severity.HIGH
    return None


def _bind_mount(item: Node) -> tuple[str, bool] | None:
    """(host path, read-only) of a Compose bind mount of an absolute host path."""
    if isinstance(item, MappingNode):
        source = _clean(_scalar(_get(item, "source")))
        if _scalar(_get(item, "type")) != "bind" or not source or not source.startswith("/"):
            return None
        return source, _true(_get(item, "read_only"))
    entry = _clean(_scalar(item))
    if not entry or not entry.startswith("/") or "\\" in entry or "$" in entry:
        return None
    parts = entry.split(":")
    if len(parts) < 2:
        return None  # an anonymous volume at a container path
    mode = parts[2].split(",") if len(parts) > 2 else []
    return parts[0], "ro" in mode


def check_host_path(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """`hostPath` volumes (Kubernetes, any path: the pod reads or writes the node's filesystem,
    critical for the container runtime socket or `/`), and Compose bind mounts of sensitive host
    paths (`/var/run/docker.sock` or `/var/run` even `:ro`, `/`, `/etc`, writable `/proc`, `/sys`, ...). Project bind
    mounts such as `./src:/app` and named volumes are normal and do not match. Helm values'
    extra volumes count like the manifest's."""
    for doc in _pod_docs(file):
        for node, _, _ in doc.mappings:
            key = _key(node, "hostPath")
            spec = _get(node, "hostPath")
            if key is None or _key(spec, "path") is None:
                continue
            path = _clean(_scalar(_get(spec, "path")))
            severity = _host_path_severity(path, False) if path else None
            shown = f" `{path}`" if path else ""
            socket = bool(path) and _runtime_socket(_normal_path(path or ""))
            yield Hit(
                doc.line(key),
                severity=Severity.CRITICAL if severity is Severity.CRITICAL else None,
                rationale=(
                    f"The hostPath volume{shown} hands the pod the node's container runtime socket (or the folder holding it): whoever controls the pod can start privileged containers, i.e. is root on the node."
                    if socket
                    else f"The hostPath volume{shown} exposes the node's filesystem to the pod: a compromised container can read node secrets or write to the host, and the pod is tied to one node's disk."
                ),
            )
    for _, doc in _docs(file, "compose"):
        for service, node in _services(doc):
            volumes = _get(node, "volumes")
            if not isinstance(volumes, SequenceNode):
                continue
            for item in volumes.value:
                mount = _bind_mount(item)
                severity = _host_path_severity(*mount) if mount else None
                if severity is None:
                    continue
                path = _normal_path(mount[0])
                socket = _runtime_socket(path)
                yield Hit(
                    doc.line(item),
                    severity=severity,
                    rationale=(
                        f"{_where(service)} mounts the container runtime socket `{path}` (or the folder holding it): whoever controls the container can start privileged containers, i.e. is root on the host (read-only does not help)."
                        if socket
                        else f"{_where(service)} bind-mounts the host path `{path}`: a compromised container can read host secrets or modify the host."
                    ),
                    suggested_fix=(
                        "Do not mount the runtime socket; if a tool needs the Docker API, put a filtering socket proxy in front of it and grant only the calls it needs."
                        if socket
                        else "Mount only the project files or a named volume the service needs, read-only (`:ro`) where possible."
                    ),
                )


# --- resource limits ----------------------------------------------------------------------------


def _limits_problem(container: MappingNode) -> str | None:
    """Why the container has no memory limit, or None when it has one (or cannot tell)."""
    resources = _get(container, "resources")
    if resources is None:
        return "sets no `resources.limits`"
    if isinstance(resources, ScalarNode):
        return None if _clean(resources.value) else "sets no `resources.limits`"
    if not isinstance(resources, MappingNode):
        return None
    limits = _get(resources, "limits")
    if limits is None or (isinstance(limits, ScalarNode) and _clean(limits.value) is not None):
        return "sets no `resources.limits`"
    if not isinstance(limits, MappingNode):
        return None
    if _get(limits, "memory") is None:
        return "limits CPU but not memory"
    return None


def _workload_containers(found: Manifest) -> Iterator[tuple[Doc, MappingNode]]:
    """The containers of workload pod specs. In a fragment (kind unknown) a list item with a
    `name` and an `image` counts when the fragment shows where it ends."""
    for doc in found.docs:
        if doc.flavour != "k8s":
            continue
        for node, path, kind in doc.mappings:
            if doc.fragment:
                if (path == ("[]",) or path[-2:] == ("containers", "[]")) and _complete(doc, node):
                    if _scalar(_get(node, "name")) and _scalar(_get(node, "image")):
                        yield doc, node
                continue
            containers = _get(node, "containers")
            if kind not in WORKLOAD_KINDS or not isinstance(containers, SequenceNode):
                continue
            pod_limits = _get(_get(node, "resources"), "limits")
            if isinstance(pod_limits, MappingNode) and _get(pod_limits, "memory") is not None:
                continue
            for container in containers.value:
                if _scalar(_get(container, "image")) is not None:
                    yield doc, container


def _complete(doc: Doc, node: Node) -> bool:
    """Whether a fragment shows all of `node`: something known follows it."""
    return doc.closed or node.end_mark.index < doc.root.end_mark.index


def _has_gap(file: FileUnderReview, span: range) -> bool:
    """A blank line inside a block (trailing blanks aside): in a diff's partial text the unknown
    lines are blank."""
    lines = [file.line(number) for number in span]
    while lines and not lines[-1].strip():
        lines.pop()
    return any(not line.strip() for line in lines)


def _removed_limits_in_fragments(found: Manifest) -> Iterator[Hit]:
    """A diff's partial text that deletes `limits:` may not show the container's start: report the
    `resources:` (or, when the text starts inside it, the `requests:`) left without limits when it
    is the only one the text shows."""
    left: list[tuple[Doc, ScalarNode]] = []
    for doc in found.docs:
        if doc.flavour != "k8s" or not doc.fragment:
            continue
        for node, path, _ in doc.mappings:
            resources = _get(node, "resources")
            key = _key(node, "resources")
            if key and _get(resources, "requests") is not None and _limits_problem(node):
                left.append((doc, key))
            elif not path and _key(node, "requests") and _get(node, "limits") is None:
                left.append((doc, _key(node, "requests")))  # the text starts inside `resources:`
    if len(left) == 1:
        doc, key = left[0]
        yield Hit(
            doc.line(key),
            anywhere=True,
            rationale="The change deletes the container's `resources.limits`: without a memory limit one leak or spike can exhaust the node's memory and get other pods evicted or OOM-killed.",
        )


# Template actions that only steer rendering (`{{- if }}`, `{{- end }}`, comments) and print nothing.
_CONTROL_ACTION = re.compile(
    r"\{\{-?\s*(?:/\*.*?\*/|(?:if|else|else\s+if|end|with|range|define|block)\b[^}]*)\s*-?\}\}"
)


def _may_render_into(file: FileUnderReview, found: Manifest, span: range) -> bool:
    """Whether a template directive may render part of the block on `span`: any directive between
    its first and last known lines, or one after its last line that prints something (a trailing
    `{{- end }}` of an `if` around the block prints nothing)."""
    templated = [line for line in span if line in found.templated]
    if not templated:
        return False
    content = [line for line in span if line not in found.templated and file.line(line).strip()]
    last = content[-1] if content else span.start
    return any(
        line < last or _CONTROL_ACTION.sub("", file.line(line)).strip() for line in templated
    )


def check_resource_limits(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """A container of a workload (Pod, Deployment, StatefulSet, DaemonSet, Job, CronJob, ...)
    without `resources.limits.memory`: one leaking or spiking container can exhaust the node and
    get its neighbours evicted. Reported on the `limits:` or `resources:` line that falls short,
    else on the container's first line. Quiet when a LimitRange in the same file sets defaults,
    when the pod sets pod-level limits, when a Helm template renders part of the container, and
    for containers without an `image` (kustomize strategic-merge patches)."""
    found = _manifest_of(file)
    if found.limit_range:
        return
    lacking: list[tuple[Doc, MappingNode, str]] = []
    for doc, container in _workload_containers(found):
        span = range(doc.line(container), doc.end_line(container) + 1)
        if _may_render_into(file, found, span):
            continue  # a Helm directive inside may render the limits
        if not file.is_new and _has_gap(file, span):
            continue  # a gap in a diff's partial text may hide the limits
        problem = _limits_problem(container)
        if problem:
            lacking.append((doc, container, problem))
    limits_removed = not file.is_new and any(
        _REMOVED_LIMITS.match(line) for line in file.removed_text
    )
    if limits_removed and not lacking:
        yield from _removed_limits_in_fragments(found)
    for doc, container, problem in lacking:
        resources = _key(container, "resources")
        limits = _key(_get(container, "resources"), "limits")
        # Where a reader would point: the `limits:` that lacks memory, else the `resources:` that
        # lacks limits, else the container itself; the first of them the change touches.
        candidates = [
            doc.line(limits) if limits else None,
            doc.line(resources) if resources else None,
            doc.line(container),
        ]
        line = _first_changed(file, candidates)
        if line is None:
            continue
        name = _clean(_scalar(_get(container, "name")))
        who = f"The container `{name}`" if name else "This container"
        # A change that only deletes the limits leaves no changed line on the container: report
        # it anyway when the deleted limits can only have belonged to this container.
        anywhere = limits_removed and len(lacking) == 1 and not file.is_changed(line)
        if anywhere and resources:
            line = doc.line(resources)
        yield Hit(
            line,
            anywhere=anywhere,
            rationale=f"{who} {problem}: without a memory limit one leak or spike can exhaust the node's memory and get other pods evicted or OOM-killed, and the scheduler cannot account for it.",
        )


# --- image tags -------------------------------------------------------------------------------------


def _image_problem(ref: str | None) -> str | None:
    """`latest`/`untagged` for a floating image reference; None for pinned or unreadable ones."""
    ref = _clean(ref)
    if not ref or "$" in ref or not _IMAGE_REF.fullmatch(ref) or "@" in ref:
        return None
    name = ref.rsplit("/", 1)[-1]
    if ":" not in name:
        return "untagged"
    tag = name.rsplit(":", 1)[1]
    return "latest" if tag.lower() == "latest" else None


def _image_hit(doc: Doc, node: Node, ref: str, problem: str, where: str) -> Hit:
    ref = ref.strip()
    detail = (
        f"uses `{ref}`, and `latest` moves"
        if problem == "latest"
        else f"uses `{ref}` without a tag, which means `latest` and moves"
    )
    return Hit(
        doc.line(node),
        rationale=f"{where} {detail}: each pull or reschedule may run a different image, so deploys are not reproducible and a bad or compromised upstream push rolls out silently.",
    )


def _container_like(doc: Doc, node: MappingNode, path: tuple[str, ...]) -> bool:
    """A container spec: an item of a container list, a named list item (Tekton steps, Argo
    templates), or, in a fragment, a mapping whose start the fragment may not show. Not the
    `image:` of build tools such as Skaffold's artifacts."""
    if path[-2:-1] and path[-2] in _CONTAINER_LISTS:
        return True
    if path[-1:] == ("[]",) and _get(node, "name") is not None:
        return True
    return doc.fragment and not path


def _image_name(ref: str) -> str:
    """The repository part of an image reference (`registry:5000/app:1.2` -> `registry:5000/app`)."""
    ref = ref.strip().split("@", 1)[0]
    head, _, last = ref.rpartition("/")
    return f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]


@lru_cache(maxsize=32)
def _kustomize_pinned(texts: tuple[str, ...]) -> frozenset[str]:
    """Image names that the given kustomization files pin with `newTag` (not `latest`) or
    `digest`: kustomize rewrites every reference to them, so the manifests may name them bare."""
    pinned: set[str] = set()
    for text in texts:
        for doc in manifest(text, kustomization=True).docs:
            for item in _items(_get(doc.root, "images")):
                name = _clean(_scalar(_get(item, "name")))
                tag = _clean(_scalar(_get(item, "newTag")))
                digest = _clean(_scalar(_get(item, "digest")))
                if name and (digest or (tag and tag.lower() != "latest")):
                    pinned.add(_image_name(name))
    return frozenset(pinned)


def _items(node: Node | None) -> list[Node]:
    return list(node.value) if isinstance(node, SequenceNode) else []


_LAST_CONTEXT: list = [None, frozenset()]  # (context.files, its pinned names): one review at a time


def _pinned_by_kustomize(context: ReviewContext) -> frozenset[str]:
    if _LAST_CONTEXT[0] is context.files:
        return _LAST_CONTEXT[1]
    texts = tuple(
        f.text
        for f in context.files
        if f.text and _KUSTOMIZATION_NAME.match(f.name.lower()) and "images" in f.text
    )
    pinned = _kustomize_pinned(texts) if texts else frozenset()
    _LAST_CONTEXT[:] = [context.files, pinned]
    return pinned


def _values_image_hits(doc: Doc) -> Iterator[Hit]:
    """Helm values: an `image:` block (or `*Image:`) whose `tag` is `latest`, or an image
    reference written whole that floats. An empty or missing tag means the chart's appVersion."""
    for node, path, _ in doc.mappings:
        for key, value in _pairs(node):
            if not key.value.lower().endswith("image"):
                continue
            if isinstance(value, MappingNode):
                tag = _get(value, "tag")
                text = _clean(_scalar(tag))
                if (
                    tag is not None
                    and text
                    and text.lower() == "latest"
                    and not _clean(_scalar(_get(value, "digest")))
                ):
                    yield Hit(
                        doc.line(tag),
                        rationale="The chart's image tag is set to `latest`: each pull or reschedule may run a different image, so releases are not reproducible and `helm rollback` does not roll the code back.",
                        suggested_fix="Leave `tag` empty to use the chart's `appVersion`, or pin a version tag or digest and bump it deliberately (e.g. with Renovate).",
                    )
            else:
                ref = _clean(_scalar(value))
                if not ref or ref.lower() in _NOT_A_VALUE or ref.isdigit():
                    continue
                if key.value.lower() != "image" and not any(c in ref for c in "/:"):
                    continue  # `pullImage: always` and such: not a reference
                problem = _image_problem(ref)
                if problem:
                    yield _image_hit(doc, value, ref, problem, f"The chart value `{key.value}`")
        if doc.fragment and not path and _get(node, "repository") is not None:
            tag = _get(node, "tag")
            text = _clean(_scalar(tag))
            if tag is not None and text and text.lower() == "latest":
                yield Hit(doc.line(tag))


def check_unpinned_image(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """Container images with the `latest` tag or no tag at all (`nginx`, `nginx:latest`,
    `registry.io:5000/app`: a registry port is not a tag); kustomize `newTag: latest`; a Helm
    values `image.tag: latest`. Version tags, digests (`@sha256:...`), templated and `${...}`
    references, names that a kustomization in the change pins with `newTag`/`digest`, and Compose
    services that `build:` the image themselves are fine."""
    for _, doc in _docs(file, "values"):
        yield from _values_image_hits(doc)
    pinned: frozenset[str] | None = None
    for _, doc in _docs(file, "k8s"):
        for node, path, kind in doc.mappings:
            image = _get(node, "image")
            ref = _scalar(image)
            problem = _image_problem(ref)
            if (
                problem
                and image is not None
                and ref is not None
                and _container_like(doc, node, path)
            ):
                if pinned is None:
                    pinned = _pinned_by_kustomize(context)
                if _image_name(ref) in pinned:
                    continue  # the kustomization rewrites it to a pinned reference
                name = _clean(_scalar(_get(node, "name")))
                who = f"The container `{name}`" if name else "The container"
                yield _image_hit(doc, image, ref, problem, who)
            if kind == "Kustomization":
                tag = _get(node, "newTag")
                text = _clean(_scalar(tag))
                if tag is not None and text and text.lower() == "latest":
                    yield Hit(
                        doc.line(tag),
                        rationale="The kustomize image override sets `newTag: latest`: each pull or reschedule may run a different image, so deploys are not reproducible.",
                    )
    for _, doc in _docs(file, "compose"):
        for service, node in _whole_services(doc):
            if _get(node, "build") is not None:
                continue
            image = _get(node, "image")
            ref = _scalar(image)
            problem = _image_problem(ref)
            if problem and image is not None and ref is not None:
                yield _image_hit(doc, image, ref, problem, _where(service))


# --- secrets ------------------------------------------------------------------------------------------


def secret_name(name: str) -> bool:
    """Whether an environment variable name holds a secret (`DB_PASSWORD`, `apiKey`,
    `JWT_SECRET`), not a setting about one (`PASSWORD_MIN_LENGTH`, `TOKEN_TTL`, `SECRET_NAME`,
    `DB_PASSWORD_FILE`)."""
    words = [word.upper() for word in _NAME_WORDS.findall(name)]
    if not words or _SETTING_WORDS.intersection(words):
        return False
    for index, word in enumerate(words):
        if word in _SECRET_WORDS or (len(word) > 6 and word.endswith(_SECRET_SUFFIXES)):
            return True
        if word == "KEY" and index and words[index - 1] in _KEY_QUALIFIERS:
            return True
    return False


def _literal(value: str | None) -> str | None:
    """The value when it is a literal worth calling a secret (not empty, a placeholder, a
    substitution, a boolean or a path)."""
    value = _clean(value)
    if not value or _SUBSTITUTION.search(value) or value.lower() in _NOT_A_VALUE:
        return None
    if value.startswith(("/", "./", "~/")) or _PLACEHOLDER_VALUE.fullmatch(value):
        return None
    return value


def _secret_problem(name: str, value: str | None) -> str | None:
    """`url` when the value is a URL with an inline password, `name` when a secret-named variable
    holds a literal, else None."""
    literal = _literal(value)
    if literal is None:
        return None
    credentials = _URL_CREDENTIALS.match(literal)
    if credentials and _literal(credentials.group(1)):
        return "url"
    return "name" if secret_name(name.strip()) else None


_K8S_SECRET_FIX = "Store the value in a Secret (created out of band, or with Sealed Secrets / External Secrets / SOPS) and reference it with `valueFrom.secretKeyRef`; rotate the committed value."
_COMPOSE_SECRET_FIX = "Use `${NAME}` substitution from an untracked `.env` file or the shell, or Compose `secrets:`; rotate the committed value."


def _secret_hit(line: int, name: str, problem: str, where: str, fix: str) -> Hit:
    what = (
        "holds a URL with an inline password" if problem == "url" else "is set to a literal secret"
    )
    return Hit(
        line,
        rationale=f"`{name.strip()}` {what} in {where}: everyone with access to the repository (and its history) can read it, and rotating it takes a commit.",
        suggested_fix=fix,
    )


def _env_entries(node: Node | None) -> Iterator[tuple[str, str | None, Node]]:
    """(name, value, node to report) of a Compose `environment`/`args` mapping or `KEY=value`
    list."""
    if isinstance(node, MappingNode):
        for key, value in _pairs(node):
            yield key.value, _scalar(value), key
    elif isinstance(node, SequenceNode):
        for item in node.value:
            entry = _scalar(item)
            if entry and "=" in entry:
                name, value = entry.split("=", 1)
                yield name, value, item


# --- literal credentials on command lines ------------------------------------------------------------

# the last word of a long flag that takes a credential (`--requirepass`, `--db-password`,
# `--api-key`, `--auth-token`); words that make the flag a setting about one (`--password-file`,
# `--password-stdin`, `--token-ttl`, `--no-auth`) rule it out
_FLAG_WORDS = re.compile(r"[a-z0-9]+")
_FLAG_SECRET_LAST = frozenset(
    {
        "password",
        "passwd",
        "pass",
        "pw",
        "pwd",
        "passphrase",
        "secret",
        "token",
        "apikey",
        "auth",
        "requirepass",
        "masterauth",
        "masterpass",
    }
)
_FLAG_NOT_SECRET = frozenset(
    word.lower() for word in _SETTING_WORDS | {"STDIN", "NO", "SKIP", "WITHOUT", "PROMPT", "ASK"}
) - {"user"}  # `--user-password` is still a password
# short flags that take a password, per program: mysql-style clients only accept the password
# attached (`-pS3cret`: `-p value` prompts and reads `value` as the database name)
_ATTACHED_ONLY = {"p"}
_MYSQL_CLIENTS = frozenset(
    {
        "mysql",
        "mysqldump",
        "mysqladmin",
        "mysqlimport",
        "mysqlcheck",
        "mysqlshow",
        "mysqlpump",
        "mysqlbinlog",
        "mariadb",
        "mariadb-dump",
        "mariadb-admin",
        "mariadb-import",
        "mariadb-check",
        "mariadb-show",
        "mariadb-binlog",
    }
)
_MONGO_CLIENTS = frozenset(
    {
        "mongo",
        "mongosh",
        "mongodump",
        "mongorestore",
        "mongoexport",
        "mongoimport",
        "mongostat",
        "mongotop",
        "mongofiles",
    }
)
_SHORT_PASSWORD_FLAGS: dict[str, tuple[str, bool]] = {  # program -> (flag letter, attached only)
    **{program: ("p", True) for program in _MYSQL_CLIENTS},
    **{program: ("p", False) for program in _MONGO_CLIENTS},
    "redis-cli": ("a", False),
    "valkey-cli": ("a", False),
    "keydb-cli": ("a", False),
    "sshpass": ("p", False),
}
_SHELL_SEPARATORS = frozenset({"|", "||", "&&", ";", "&"})
_FILE_LIKE = re.compile(
    r"[\w.-]+\.(?:pem|key|crt|cer|json|txt|conf|cfg|ini|ya?ml|env|p12|pfx|jks|der|asc|gpg|toml)",
    re.I,
)
_BUILDKIT_SECRET = re.compile(r"(?:^|,)(?:id|src|source|env|type|target)=")
_AUTH_MODE = re.compile(r"[a-z][a-z0-9_-]{0,15}")


def _flag_takes_secret(flag: str) -> bool:
    """Whether a long flag's name (without dashes) names a credential it takes as its value."""
    words = _FLAG_WORDS.findall(flag.lower())
    if not words or _FLAG_NOT_SECRET.intersection(words):
        return False
    last = words[-1]
    if last in _FLAG_SECRET_LAST:
        return True
    return last == "key" and len(words) > 1 and words[-2].upper() in _KEY_QUALIFIERS


def _command_tokens(nodes: Iterable[Node]) -> list[tuple[str, ScalarNode]]:
    """The arguments of a `command` / `args` / healthcheck `test` (a list, or a string run through
    the shell), each with the scalar it comes from; an item holding a whole shell command (the
    script of `sh -c`) is split into words too."""
    tokens: list[tuple[str, ScalarNode]] = []
    for node in nodes:
        items = node.value if isinstance(node, SequenceNode) else [node]
        for item in items:
            if not isinstance(item, ScalarNode) or PLACEHOLDER in item.value:
                continue
            text = item.value
            if not any(char.isspace() for char in text.strip()):
                tokens.append((text.strip(), item))
                continue
            try:
                words = shlex.split(text, comments=True)
            except ValueError:
                words = text.split()
            for word in words:
                # `cmd;` and `cmd &&` end a shell command: keep the separator as its own token
                if len(word) > 1 and word.endswith(";"):
                    tokens.extend(((word[:-1], item), (";", item)))
                else:
                    tokens.append((word, item))
    return tokens


def _credential_value(value: str, flag: str | None = None) -> bool:
    literal = _literal(value)
    if literal is None or literal.startswith(("-", "@")) or _FILE_LIKE.fullmatch(literal):
        return False
    if flag == "secret" and _BUILDKIT_SECRET.search(literal):
        return False  # `--secret id=npmrc,src=...` names a secret, it is not one
    return not (flag == "auth" and _AUTH_MODE.fullmatch(literal))  # `--auth basic`


def _command_credentials(tokens: list[tuple[str, ScalarNode]]) -> Iterator[tuple[str, ScalarNode]]:
    """(flag as written, node of its value) for each literal credential passed as a flag."""
    program_flags: list[tuple[str, bool]] = []
    for index, (token, _) in enumerate(tokens):
        if token in _SHELL_SEPARATORS:
            program_flags = []
            continue
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if token.startswith("--") and len(token) > 2:
            name, equals, attached = token[2:].partition("=")
            if not _flag_takes_secret(name):
                continue
            last = _FLAG_WORDS.findall(name.lower())[-1]
            if equals:
                if _credential_value(attached, last):
                    yield f"--{name}", tokens[index][1]
            elif following and _credential_value(following[0], last):
                yield f"--{name}", following[1]
            continue
        program = token.rsplit("/", 1)[-1]
        if program in _SHORT_PASSWORD_FLAGS:
            program_flags.append(_SHORT_PASSWORD_FLAGS[program])
            continue
        if len(token) < 2 or token[0] != "-" or token[1] == "-":
            continue
        for letter, attached_only in program_flags:
            if token[1] != letter:
                continue
            if len(token) > 2:
                if _credential_value(token[2:]):
                    yield f"-{letter}", tokens[index][1]
            elif not attached_only and following and _credential_value(following[0]):
                yield f"-{letter}", following[1]
            break


def _token_line(doc: Doc, node: ScalarNode, flag: str) -> int:
    """The line of a flag inside a scalar: a block scalar (`|`) holds a script over many lines."""
    line = doc.line(node)
    if node.style in ("|", ">"):
        position = node.value.find(flag)
        line += 1 + (node.value.count("\n", 0, position) if position > 0 else 0)
    return line


_COMMAND_KEYS = ("command", "args", "entrypoint")


def _command_hits(doc: Doc, node: MappingNode, where: str, fix: str) -> Iterator[Hit]:
    """Literal credentials on the command line of a container / Compose service / probe."""
    parts = [value for key in _COMMAND_KEYS if (value := _get(node, key)) is not None]
    test = _get(_get(node, "healthcheck"), "test")
    seen: set[int] = set()
    for group in (parts, [test] if test is not None else []):
        for flag, value_node in _command_credentials(_command_tokens(group)):
            line = _token_line(doc, value_node, flag)
            if line in seen:
                continue
            seen.add(line)
            yield Hit(
                line,
                rationale=f"The command line passes a literal credential with `{flag}` in {where}: "
                "everyone with access to the repository (and its history) can read it, and it "
                "also shows in `ps`, `docker inspect` / `kubectl describe` and process listings.",
                suggested_fix=fix,
            )


_K8S_COMMAND_FIX = 'Read the credential from the environment (`valueFrom.secretKeyRef`, then `$(REDIS_PASSWORD)` in `args` or `"$REDIS_PASSWORD"` in a shell command) or from a mounted Secret file (`--requirepass-file`, `--password-file`); rotate the committed value.'
_COMPOSE_COMMAND_FIX = "Pass the credential from the environment (`${REDIS_PASSWORD}` substitution from an untracked `.env`, or `$$REDIS_PASSWORD` expanded by the container's shell) or from a Compose `secrets:` file; rotate the committed value."


def _command_secret_hits(file: FileUnderReview) -> Iterator[Hit]:
    for _, doc in _docs(file, "k8s"):
        for node, _, _ in doc.mappings:
            if any(_get(node, key) is not None for key in ("command", "args")):
                yield from _command_hits(doc, node, "the manifest", _K8S_COMMAND_FIX)
    for _, doc in _docs(file, "compose"):
        for service, node in _services(doc):
            where = f"the Compose service `{service}`" if service else "the Compose file"
            yield from _command_hits(doc, node, where, _COMPOSE_COMMAND_FIX)


def check_secret_in_env(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """Secrets written as plain values: Kubernetes `env` entries (`- name: DB_PASSWORD` with
    `value: ...`), ConfigMap `data` and kustomize `configMapGenerator` literals under secret names,
    Compose `environment:` and `build.args` (mapping or `KEY=value` list), and any value holding a
    URL with an inline password. `valueFrom.secretKeyRef`, `${VAR}`/`$(VAR)` references, empty
    values, paths and settings such as `PASSWORD_MIN_LENGTH` or `SECRET_NAME` are fine. Also
    literal credentials passed as flags on a command line: Compose `command` / `entrypoint` /
    `healthcheck.test` and Kubernetes `command` / `args` (probes included), as lists or shell
    strings: `--requirepass`, `--password`, `--api-key`, `--token`, `--auth`, ... with a literal
    value (not `$VAR` / `${VAR}` / `$(VAR)`, a path, a `--password-file` / `--password-stdin`),
    and the short password flags of known clients (`mysql -pS3cret`, attached only; `redis-cli -a`,
    `mongosh -p`, `sshpass -p`). The value never appears in the finding."""
    for _, doc in _docs(file, "values"):
        for node, path, _ in doc.mappings:
            if len(path) > 1 and path[-1] == "[]" and path[-2].lower().endswith(("env", "envvars")):
                name = _clean(_scalar(_get(node, "name")))
                value = _get(node, "value")
                problem = _secret_problem(name, _scalar(value)) if name and value else None
                if problem and name and value:
                    yield _secret_hit(
                        doc.line(value), name, problem, "the chart values", _K8S_SECRET_FIX
                    )
    for _, doc in _docs(file, "k8s"):
        for node, path, kind in doc.mappings:
            if path[-2:] == ("env", "[]") or (doc.fragment and path == ("[]",)):
                name = _clean(_scalar(_get(node, "name")))
                value = _get(node, "value")
                problem = _secret_problem(name, _scalar(value)) if name and value else None
                if problem and name and value:
                    yield _secret_hit(
                        doc.line(value), name, problem, "the manifest", _K8S_SECRET_FIX
                    )
            elif kind == "ConfigMap" and path == ("data",) and not doc.fragment:
                for key, value in _pairs(node):
                    problem = _secret_problem(key.value, _scalar(value))
                    if problem and "." not in key.value:
                        yield _secret_hit(
                            doc.line(key), key.value, problem, "a ConfigMap", _K8S_SECRET_FIX
                        )
            elif kind == "Kustomization" and path[-2:] == ("configMapGenerator", "[]"):
                for name, value, item in _env_entries(_get(node, "literals")):
                    problem = _secret_problem(name, value)
                    if problem:
                        yield _secret_hit(
                            doc.line(item), name, problem, "a ConfigMap", _K8S_SECRET_FIX
                        )
    for _, doc in _docs(file, "compose"):
        for service, node in _services(doc):
            where = f"the Compose service `{service}`" if service else "the Compose file"
            for name, value, item in _env_entries(_get(node, "environment")):
                problem = _secret_problem(name, value)
                if problem:
                    yield _secret_hit(doc.line(item), name, problem, where, _COMPOSE_SECRET_FIX)
            for name, value, item in _env_entries(_get(_get(node, "build"), "args")):
                problem = _secret_problem(name, value)
                if problem:
                    yield _secret_hit(
                        doc.line(item),
                        name,
                        problem,
                        f"the build args of {where} (they are also baked into the image history)",
                        "Pass build-time secrets with BuildKit secrets (`build.secrets:` and `RUN --mount=type=secret`), never as build args; rotate the committed value.",
                    )
    yield from _command_secret_hits(file)


def _entry_value(node: MappingNode, entry: Node) -> str | None:
    """The literal value of a Secret `data`/`stringData` key node (or a generator literal)."""
    if isinstance(entry, ScalarNode) and "=" in entry.value and _get(node, "literals") is not None:
        return entry.value.split("=", 1)[1]
    for field in ("data", "stringData"):
        for key, value in _pairs(_get(node, field)):
            if key is entry:
                return _scalar(value)
    return None


def check_secret_manifest(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """A `kind: Secret` with literal `data`/`stringData` values (base64 is an encoding, not
    encryption), or a kustomize `secretGenerator` with `literals`, committed to the repository.
    Templated values, `${...}` placeholders and empty values are fine; SealedSecrets and
    ExternalSecrets are other kinds and do not match. One finding per Secret, naming its keys."""
    for _, doc in _docs(file, "k8s"):
        if doc.fragment:
            continue
        for node, path, kind in doc.mappings:
            entries: list[tuple[str, Node]] = []
            if kind == "Secret" and _kind(node) == "Secret":
                for field in ("data", "stringData"):
                    entries.extend(
                        (key.value, key)
                        for key, value in _pairs(_get(node, field))
                        if _literal(_scalar(value))
                    )
                what = f"The Secret `{_clean(_scalar(_get(_get(node, 'metadata'), 'name'))) or 'unnamed'}`"
            elif kind == "Kustomization" and path[-2:] == ("secretGenerator", "[]"):
                entries.extend(
                    (name, item)
                    for name, value, item in _env_entries(_get(node, "literals"))
                    if _literal(value)
                )
                what = f"The secretGenerator `{_clean(_scalar(_get(node, 'name'))) or 'unnamed'}`"
            if not entries:
                continue
            # Point at the first changed entry that is plainly a credential (`SMTP_PASSWORD`, a URL
            # with a password) rather than at a username or host listed before it.
            secretish = [
                doc.line(entry)
                for name, entry in entries
                if secret_name(name.strip()) or _secret_problem(name, _entry_value(node, entry))
            ]
            line = _first_changed(file, [n for n in secretish if file.is_changed(n)]) or (
                _first_changed(file, [doc.line(entry) for _, entry in entries])
            )
            names = ", ".join(f"`{name.strip()}`" for name, _ in entries[:5])
            more = f" and {len(entries) - 5} more" if len(entries) > 5 else ""
            yield Hit(
                line or doc.line(entries[0][1]),
                rationale=f"{what} commits the values of {names}{more} to the repository: base64 is an encoding, not encryption, so everyone with access to the repository (and its history) can read them.",
            )


# --- running as root ----------------------------------------------------------------------------------


def check_run_as_root(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """`runAsUser: 0` or `runAsNonRoot: false` in a securityContext, or Compose `user: root` /
    `user: "0"`: the process runs as root, so a container escape or a writable host mount is root
    on the host. One finding per securityContext: `runAsUser: 0` when it is there (a
    `runAsNonRoot: false` next to it is the same decision), else `runAsNonRoot: false`."""
    for doc in _pod_docs(file):
        for node in _security_contexts(doc):
            user = _key(node, "runAsUser")
            non_root = _key(node, "runAsNonRoot")
            root_user = user is not None and _clean(_scalar(_get(node, "runAsUser"))) == "0"
            checks_off = non_root is not None and _false(_get(node, "runAsNonRoot"))
            line = _first_changed(
                file,
                [
                    doc.line(user) if user is not None and root_user else None,
                    doc.line(non_root) if non_root is not None and checks_off else None,
                ],
            )
            if line is None:
                continue
            yield Hit(
                line,
                rationale=(
                    "`runAsUser: 0` runs the container as root: a container escape or a writable host mount is root on the node."
                    if root_user
                    else "`runAsNonRoot: false` turns off the kubelet's refusal to start the container as root, so an image that runs as root (the default) does."
                ),
            )
    for _, doc in _docs(file, "compose"):
        for service, node in _services(doc):
            key = _key(node, "user")
            text = _clean(_scalar(_get(node, "user")))
            if key is not None and text and _ROOT_USER.fullmatch(text):
                yield Hit(
                    doc.line(key),
                    rationale=f"{_where(service)} runs as root (`user: {text}`): a compromise of the process, a container escape or a writable bind mount gives root on the host.",
                    suggested_fix='Run as an unprivileged user (`user: "1000:1000"`, or a `USER` in the Dockerfile) and fix file ownership at build time instead.',
                )


_SKIPPED_FOLDERS = frozenset(
    {"node_modules", "test", "tests", "testdata", "__fixtures__", "__snapshots__"}
)


# CI files the docker_ci pack reads, and lock files.
_OTHER_PACKS_FILES = frozenset(
    {".gitlab-ci.yml", ".gitlab-ci.yaml", "action.yml", "action.yaml", "pnpm-lock.yaml"}
)


def matches(path: str) -> bool:
    """Every YAML file except CI workflows (the docker_ci pack), vendored packages and test
    fixtures (Helm `templates/tests/` hooks included); the checks decide by content whether it is a
    Kubernetes manifest or a Compose file."""
    lowered = path.lower()
    if not lowered.endswith((".yaml", ".yml")):
        return False
    *folders, name = lowered.split("/")
    if _SKIPPED_FOLDERS.intersection(folders) or name in _OTHER_PACKS_FILES:
        return False
    return "/.github/workflows/" not in f"/{lowered}"


PACK = RulePack(
    name="orchestration",
    matches=matches,
    checks=(
        (
            Rule(
                id="orchestration.privileged-container",
                category="privileged-container",
                severity=Severity.CRITICAL,
                rationale="`privileged: true` gives the container every Linux capability and access to the host's devices: anyone who compromises it is root on the node.",
                suggested_fix="Remove `privileged: true`; add only the specific capability the workload needs under `securityContext.capabilities.add` (and drop `ALL` otherwise).",
            ),
            check_privileged,
        ),
        (
            Rule(
                id="orchestration.privilege-escalation",
                category="privileged-container",
                severity=Severity.HIGH,
                rationale="`allowPrivilegeEscalation: true` lets setuid binaries and file capabilities raise a process in the container above the user it started as.",
                suggested_fix="Set `allowPrivilegeEscalation: false` (with `runAsNonRoot: true` and `capabilities.drop: [ALL]`).",
            ),
            check_privilege_escalation,
        ),
        (
            Rule(
                id="orchestration.dangerous-capability",
                category="privileged-container",
                severity=Severity.HIGH,
                rationale="The container adds a Linux capability that lets a compromised process take over the node.",
                suggested_fix="Drop the capability (start from `drop: [ALL]` / `cap_drop: [ALL]`) and add back only narrow ones such as `NET_BIND_SERVICE`; move node-level work to a dedicated, reviewed component.",
            ),
            check_capabilities,
        ),
        (
            Rule(
                id="orchestration.host-namespace",
                category="host-namespace",
                severity=Severity.HIGH,
                rationale="The container shares a namespace with the host, so a compromise of it reaches the host's network, processes or memory directly.",
                suggested_fix="Remove `hostNetwork`/`hostPID`/`hostIPC` (use a Service or `hostPort` for reachability); in Compose publish `ports:` instead of `network_mode: host`.",
            ),
            check_host_namespace,
        ),
        (
            Rule(
                id="orchestration.host-path-mount",
                category="host-path-mount",
                severity=Severity.HIGH,
                rationale="The container mounts a path from the host's filesystem: a compromised container can read host secrets or modify the host.",
                suggested_fix="Use a PersistentVolumeClaim, ConfigMap, Secret or emptyDir instead of hostPath; if a node agent truly needs it, mount the narrowest path read-only (`readOnly: true`).",
            ),
            check_host_path,
        ),
        (
            Rule(
                id="orchestration.missing-resource-limits",
                category="missing-resource-limits",
                severity=Severity.MEDIUM,
                rationale="The container has no memory limit: one leak or spike can exhaust the node and get other pods evicted or OOM-killed.",
                suggested_fix="Add `resources.requests` and `resources.limits` (at least `memory`), e.g. `resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 256Mi}}`.",
            ),
            check_resource_limits,
        ),
        (
            Rule(
                id="orchestration.unpinned-image",
                category="unpinned-image",
                severity=Severity.MEDIUM,
                rationale="The image is `latest` or untagged: each pull may run a different image, so deploys are not reproducible and rollbacks do not roll back.",
                suggested_fix="Pin a version tag (`nginx:1.27.3`) or, better, a digest (`nginx@sha256:...`), and update it deliberately (e.g. with Renovate or Dependabot).",
            ),
            check_unpinned_image,
        ),
        (
            Rule(
                id="orchestration.secret-in-env",
                category="hardcoded-secret",
                severity=Severity.HIGH,
                rationale="A secret is written as a plain value in the manifest: everyone with access to the repository (and its history) can read it.",
                suggested_fix=_K8S_SECRET_FIX,
            ),
            check_secret_in_env,
        ),
        (
            Rule(
                id="orchestration.secret-manifest",
                category="hardcoded-secret",
                severity=Severity.HIGH,
                rationale="A Kubernetes Secret with its values is committed: base64 is an encoding, not encryption, so everyone with access to the repository can read them.",
                suggested_fix="Do not commit Secret values: create the Secret out of band, or commit an encrypted SealedSecret / SOPS file or an ExternalSecret that points at a secret manager; rotate the committed values.",
            ),
            check_secret_manifest,
        ),
        (
            Rule(
                id="orchestration.run-as-root",
                category="run-as-root",
                severity=Severity.MEDIUM,
                rationale="The container runs as root (`runAsUser: 0` / `runAsNonRoot: false`): a container escape or a writable host mount is root on the node.",
                suggested_fix="Run as an unprivileged user: `runAsNonRoot: true` with `runAsUser: 10001` (and a matching `USER` in the Dockerfile).",
            ),
            check_run_as_root,
        ),
    ),
)
