"""The orchestration rule pack: firing cases, near-misses, changed-line filtering, suppression."""

from __future__ import annotations

import pytest
from rulekit import file_change, review, review_text

from code_assistant_lora.findings import Severity
from code_assistant_lora.review.rule import FileUnderReview
from code_assistant_lora.review.rules.orchestration import PACK, secret_name

CRITICAL, HIGH, MEDIUM = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM


def found(path: str, text: str, old: str | None = None) -> list[tuple[str, int, Severity]]:
    return [
        (f.rule.removeprefix("orchestration."), f.line, f.severity)
        for f in review_text(path, text, old, only="orchestration")
    ]


def partial(path: str, text: str, shown: range, added: set[int]) -> FileUnderReview:
    """A modified file as a diff file shows it: only the lines in `shown` (1-based) are known,
    the others are blank."""
    lines = text.splitlines()
    known = [line if number in shown else "" for number, line in enumerate(lines, 1)]
    return FileUnderReview(
        path=path,
        status="modified",
        text="\n".join(known[: max(shown)]) + "\n",
        added_lines=frozenset(added),
    )


def found_in(file: FileUnderReview) -> list[tuple[str, int]]:
    return [
        (f.rule.removeprefix("orchestration."), f.line) for f in review(file, only="orchestration")
    ]


RISKY_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: node-agent
spec:
  selector:
    matchLabels: {app: node-agent}
  template:
    metadata:
      labels: {app: node-agent}
    spec:
      hostNetwork: true
      hostPID: true
      volumes:
        - name: docker
          hostPath:
            path: /var/run/docker.sock
        - name: logs
          hostPath:
            path: /var/log
            type: Directory
      containers:
        - name: agent
          image: acme/node-agent
          securityContext:
            privileged: true
            allowPrivilegeEscalation: true
            runAsUser: 0
            capabilities:
              add: ["SYS_ADMIN", "NET_BIND_SERVICE"]
              drop: ["ALL"]
          env:
            - name: DB_PASSWORD
              value: "hunter2"
            - name: PASSWORD_MIN_LENGTH
              value: "12"
            - name: API_TOKEN
              valueFrom:
                secretKeyRef: {name: agent, key: token}
          volumeMounts:
            - {name: docker, mountPath: /var/run/docker.sock}
"""


def test_risky_deployment_fires_every_rule_on_the_offending_line():
    assert found("k8s/node-agent.yaml", RISKY_DEPLOYMENT) == [
        ("host-namespace", 12, HIGH),
        ("host-namespace", 13, HIGH),
        ("host-path-mount", 16, CRITICAL),
        ("host-path-mount", 19, HIGH),
        ("missing-resource-limits", 23, MEDIUM),
        ("unpinned-image", 24, MEDIUM),
        ("privileged-container", 26, CRITICAL),
        ("privilege-escalation", 27, HIGH),
        ("run-as-root", 28, MEDIUM),
        ("dangerous-capability", 30, CRITICAL),
        ("secret-in-env", 34, HIGH),
    ]


def test_rationales_are_specific_and_never_carry_the_secret_value():
    findings = {
        f.line: f
        for f in review_text("k8s/node-agent.yaml", RISKY_DEPLOYMENT, only="orchestration")
    }
    assert "/var/run/docker.sock" in findings[16].rationale
    assert "`agent`" in findings[23].rationale
    assert "`acme/node-agent`" in findings[24].rationale
    assert "SYS_ADMIN" in findings[30].rationale
    assert "`DB_PASSWORD`" in findings[34].rationale
    assert all(
        "hunter2" not in f.rationale and "hunter2" not in f.suggested_fix for f in findings.values()
    )
    assert {f.category for f in findings.values()} >= {
        "privileged-container",
        "host-namespace",
        "host-path-mount",
        "missing-resource-limits",
        "unpinned-image",
        "hardcoded-secret",
        "run-as-root",
    }


HARDENED_DEPLOYMENT = """\
# A production deployment: pinned image, limits, secrets by reference, locked-down context.
# privileged: true   (a comment never fires)
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 3
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: api
    spec:
      hostNetwork: false
      serviceAccountName: api
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        fsGroup: 10001
      initContainers:
        - name: migrate
          image: ghcr.io/acme/api:1.4.2
          command: ["./migrate"]
      containers:
        - name: api
          image: ghcr.io/acme/api@sha256:4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c
          imagePullPolicy: IfNotPresent
          ports:
            - containerPort: 8080
          env:
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: api-db
                  key: password
            - name: PASSWORD_MIN_LENGTH
              value: "12"
            - name: TOKEN_TTL
              value: "3600"
            - name: SECRET_NAME
              value: api-db
            - name: DB_PASSWORD_FILE
              value: /var/run/secrets/db/password
            - name: SMTP_PASSWORD
              value: ""
            - name: DATABASE_URL
              value: postgres://api:$(DB_PASSWORD)@db:5432/api
            - name: LOG_LEVEL
              value: info
          securityContext:
            privileged: false
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: ["ALL"]
              add: ["NET_BIND_SERVICE"]
          resources:
            requests:
              cpu: 100m
              memory: 128Mi
            limits:
              memory: 256Mi
        - name: proxy
          image: registry.internal:5000/envoy:v1.30.1
          resources:
            limits: {cpu: 200m, memory: 64Mi}
      volumes:
        - name: tmp
          emptyDir: {}
        - name: config
          configMap:
            name: api-config
"""


def test_hardened_deployment_is_clean():
    assert found("k8s/api.yaml", HARDENED_DEPLOYMENT) == []


@pytest.mark.parametrize(
    ("image", "problem"),
    [
        ("nginx", "without a tag"),
        ('"nginx"', "without a tag"),
        ("nginx:latest", "`latest`"),
        ("nginx:LATEST", "`latest`"),
        ("registry.io:5000/team/app", "without a tag"),
        ("docker.io/library/redis", "without a tag"),
    ],
)
def test_unpinned_image_fires_on_latest_and_untagged(image, problem):
    text = f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: {image}\n      resources:\n        limits: {{memory: 64Mi}}\n"
    findings = review_text("k8s/pod.yaml", text, only="orchestration")
    assert [(f.rule, f.line, f.severity) for f in findings] == [
        ("orchestration.unpinned-image", 8, MEDIUM)
    ]
    assert problem in findings[0].rationale


@pytest.mark.parametrize(
    "image",
    [
        "nginx:1.27",
        "nginx:1.27-alpine",
        "registry.io:5000/team/app:2024.06.1",
        "app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "nginx:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        '"{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"',
        "$(IMAGE)",
        '""',
    ],
)
def test_pinned_or_templated_images_do_not_fire(image):
    text = f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: {image}\n      resources:\n        limits: {{memory: 64Mi}}\n"
    assert found("k8s/pod.yaml", text) == []


def test_build_tool_images_are_not_container_images():
    skaffold = "apiVersion: skaffold/v4beta6\nkind: Config\nbuild:\n  artifacts:\n    - image: my-app\n      docker:\n        dockerfile: Dockerfile\n"
    assert found("skaffold.yaml", skaffold) == []


@pytest.mark.parametrize(
    ("resources", "line", "problem"),
    [
        ("", 7, "sets no `resources.limits`"),
        ("      resources: {}\n", 9, "sets no `resources.limits`"),
        ("      resources:\n        requests:\n          memory: 128Mi\n", 9, "sets no"),
        (
            "      resources:\n        limits:\n          cpu: 500m\n",
            10,
            "limits CPU but not memory",
        ),
    ],
)
def test_missing_resource_limits_fires_on_the_line_that_falls_short(resources, line, problem):
    text = f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: nightly\nspec:\n  containers:\n    - name: job\n      image: acme/job:1.0.0\n{resources}"
    findings = review_text("k8s/pod.yaml", text, only="orchestration")
    assert [(f.rule, f.line, f.severity) for f in findings] == [
        ("orchestration.missing-resource-limits", line, MEDIUM)
    ]
    assert problem in findings[0].rationale


def test_missing_limits_in_a_real_cronjob_and_statefulset():
    text = """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: report
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: report
              image: ghcr.io/acme/report:2.1.0
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  template:
    spec:
      containers:
        - name: postgres
          image: postgres:16.3
          resources:
            limits:
              memory: 1Gi
"""
    assert found("k8s/batch.yaml", text) == [("missing-resource-limits", 13, MEDIUM)]


@pytest.mark.parametrize(
    "text",
    [
        # a LimitRange in the same file gives the containers defaults
        "apiVersion: v1\nkind: LimitRange\nmetadata:\n  name: defaults\nspec:\n  limits:\n    - type: Container\n      default: {memory: 256Mi}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: nginx:1.27\n",
        # pod-level limits
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  resources:\n    limits: {memory: 512Mi}\n  containers:\n    - name: c\n      image: nginx:1.27\n",
        # not a workload: a Service, a ConfigMap
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\nspec:\n  selector: {app: api}\n  ports:\n    - port: 80\n      targetPort: 8080\n",
        # a kustomize strategic-merge patch names the container without its image
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          env:\n            - name: LOG_LEVEL\n              value: debug\n",
        # init containers are not held to it
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  initContainers:\n    - name: init\n      image: busybox:1.36\n  containers:\n    - name: c\n      image: nginx:1.27\n      resources:\n        limits: {memory: 64Mi}\n",
    ],
)
def test_missing_limits_near_misses(text):
    assert found("k8s/app.yaml", text) == []


@pytest.mark.parametrize(
    ("snippet", "rule", "severity"),
    [
        ("securityContext:\n        privileged: true", "privileged-container", CRITICAL),
        ("securityContext: {privileged: true}", "privileged-container", CRITICAL),
        ("securityContext:\n        privileged: yes", "privileged-container", CRITICAL),
        ("securityContext:\n        allowPrivilegeEscalation: true", "privilege-escalation", HIGH),
        (
            "securityContext:\n        capabilities:\n          add:\n          - ALL",
            "dangerous-capability",
            CRITICAL,
        ),
        (
            "securityContext:\n        capabilities:\n          add: [NET_ADMIN]",
            "dangerous-capability",
            HIGH,
        ),
        (
            'securityContext:\n        capabilities:\n          add: ["CAP_SYS_PTRACE"]',
            "dangerous-capability",
            HIGH,
        ),
        ("securityContext:\n        runAsUser: 0", "run-as-root", MEDIUM),
        ("securityContext:\n        runAsNonRoot: false", "run-as-root", MEDIUM),
    ],
)
def test_security_context_variants_fire(snippet, rule, severity):
    text = f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: nginx:1.27\n      resources:\n        limits: {{memory: 64Mi}}\n      {snippet}\n"
    findings = found("k8s/pod.yaml", text)
    assert [(r, s) for r, _, s in findings] == [(rule, severity)]
    flagged = text.splitlines()[findings[0][1] - 1]
    assert any(
        word in flagged for word in ("privileged", "Escalation", "ALL", "ADMIN", "PTRACE", "runAs")
    )


@pytest.mark.parametrize(
    "snippet",
    [
        "securityContext:\n        privileged: false",
        'securityContext:\n        privileged: "{{ .Values.privileged }}"',
        "securityContext:\n        allowPrivilegeEscalation: false",
        "securityContext:\n        capabilities:\n          drop: [ALL]\n          add: [NET_BIND_SERVICE, CHOWN]",
        "securityContext:\n        runAsUser: 1000\n        runAsNonRoot: true",
        "# securityContext:\n      #   privileged: true",
        'args: ["--privileged=true", "--host-network"]',
    ],
)
def test_security_context_near_misses(snippet):
    text = f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: nginx:1.27\n      resources:\n        limits: {{memory: 64Mi}}\n      {snippet}\n"
    assert found("k8s/pod.yaml", text) == []


def test_policies_and_crds_naming_pod_fields_do_not_fire():
    text = """\
apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata:
  name: privileged
spec:
  privileged: true
  hostNetwork: true
  allowedHostPaths:
    - pathPrefix: /var/log
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: agents.acme.io
spec:
  versions:
    - name: v1
      schema:
        openAPIV3Schema:
          properties:
            hostPath:
              type: object
              properties:
                path: {type: string}
            image: {type: string}
"""
    assert found("k8s/policy.yaml", text) == []


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ('- name: STRIPE_SECRET_KEY\n          value: "sk_live_51Habc"', "STRIPE_SECRET_KEY"),
        ("- name: dbPassword\n          value: changeme", "dbPassword"),
        ("- name: OPENAI_API_KEY\n          value: sk-proj-abc", "OPENAI_API_KEY"),
        ("- name: PGPASSWORD\n          value: postgres", "PGPASSWORD"),
        ("- {name: JWT_SECRET, value: supersecret}", "JWT_SECRET"),
        ("- name: REDIS_URL\n          value: redis://:s3cr3t@redis:6379/0", "REDIS_URL"),
    ],
)
def test_secret_in_env_fires_and_names_only_the_variable(env, name):
    text = f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: nginx:1.27\n      resources:\n        limits: {{memory: 64Mi}}\n      env:\n        {env}\n"
    findings = review_text("k8s/pod.yaml", text, only="orchestration")
    assert [(f.rule, f.severity) for f in findings] == [("orchestration.secret-in-env", HIGH)]
    assert findings[0].line in (12, 13)
    assert f"`{name}`" in findings[0].rationale
    value = env.rsplit("value: ", 1)[1].strip('"}')
    assert value not in findings[0].rationale


def test_configmap_with_a_password_fires_but_plain_settings_do_not():
    text = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: api-config
data:
  LOG_LEVEL: info
  DB_HOST: db.internal
  DB_PASSWORD: hunter2
  TOKEN_TTL: "3600"
  application.properties: |
    spring.datasource.password=${DB_PASSWORD}
"""
    assert found("k8s/config.yaml", text) == [("secret-in-env", 8, HIGH)]


def test_committed_secret_manifest_fires_once_naming_its_keys():
    text = """\
apiVersion: v1
kind: Secret
metadata:
  name: api-db
type: Opaque
data:
  username: YXBp
  password: aHVudGVyMg==
"""
    findings = review_text("k8s/secret.yaml", text, only="orchestration")
    # reported on the password, not on the username listed before it
    assert [(f.rule, f.line, f.severity) for f in findings] == [
        ("orchestration.secret-manifest", 8, HIGH)
    ]
    assert "`password`" in findings[0].rationale and "aHVudGVyMg" not in findings[0].rationale


@pytest.mark.parametrize(
    "text",
    [
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: api\nstringData:\n  password: {{ .Values.password | quote }}\n",
        'apiVersion: v1\nkind: Secret\nmetadata:\n  name: api\nstringData:\n  password: ${DB_PASSWORD}\n  token: ""\n',
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: api\nspec:\n  encryptedData:\n    password: AgBy3i4OJSWK+PiTySYZZA==\n",
        "apiVersion: external-secrets.io/v1beta1\nkind: ExternalSecret\nmetadata:\n  name: api\nspec:\n  data:\n    - secretKey: password\n      remoteRef: {key: prod/api, property: password}\n",
    ],
)
def test_secret_manifest_near_misses(text):
    assert found("k8s/secret.yaml", text) == []


KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../base
images:
  - name: ghcr.io/acme/api
    newTag: latest
  - name: ghcr.io/acme/worker
    newTag: 1.4.2
secretGenerator:
  - name: api-db
    literals:
      - password=hunter2
  - name: from-file
    files:
      - secrets/password.txt
configMapGenerator:
  - name: api-config
    literals:
      - LOG_LEVEL=info
      - API_KEY=abc123
"""


def test_kustomization_latest_tag_and_literal_secrets():
    assert found("overlays/prod/kustomization.yaml", KUSTOMIZATION) == [
        ("unpinned-image", 7, MEDIUM),
        ("secret-manifest", 13, HIGH),
        ("secret-in-env", 21, HIGH),
    ]


RISKY_COMPOSE = """\
services:
  app:
    image: acme/app
    privileged: true
    cap_add:
      - SYS_ADMIN
    network_mode: host
    pid: "host"
    user: root
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock:ro
      - /:/host
      - /etc:/host/etc:ro
      - type: bind
        source: /proc
        target: /host/proc
    environment:
      - API_TOKEN=abc123
      - DATABASE_URL=postgres://app:s3cret@db:5432/app
  db:
    image: postgres:latest
    environment:
      POSTGRES_PASSWORD: example
    build:
      context: ./db
      args:
        NPM_TOKEN: npm_abcdef
"""


def test_risky_compose_fires_on_each_offending_line():
    assert found("docker-compose.yml", RISKY_COMPOSE) == [
        ("unpinned-image", 3, MEDIUM),
        ("privileged-container", 4, CRITICAL),
        ("dangerous-capability", 6, CRITICAL),
        ("host-namespace", 7, HIGH),
        ("host-namespace", 8, HIGH),
        ("run-as-root", 9, MEDIUM),
        ("host-path-mount", 11, CRITICAL),
        ("host-path-mount", 12, CRITICAL),
        ("host-path-mount", 13, HIGH),
        ("host-path-mount", 14, HIGH),
        ("secret-in-env", 18, HIGH),
        ("secret-in-env", 19, HIGH),
        ("secret-in-env", 23, HIGH),
        ("secret-in-env", 27, HIGH),
    ]
    texts = [
        f.rationale for f in review_text("docker-compose.yml", RISKY_COMPOSE, only="orchestration")
    ]
    assert not any(
        secret in text for text in texts for secret in ("abc123", "s3cret", "example", "npm_abcdef")
    )


CLEAN_COMPOSE = """\
# Local development stack.
x-env: &env
  LOG_LEVEL: debug
services:
  api:
    build: .
    image: acme/api
    ports:
      - "127.0.0.1:8000:8000"
    volumes:
      - ./src:/app/src
      - ./config/app.toml:/etc/app/app.toml:ro
      - /etc/localtime:/etc/localtime:ro
      - node_modules:/app/node_modules
      - /app/tmp
      - ${HOME}/.cache/pip:/root/.cache/pip
    environment:
      <<: *env
      DATABASE_URL: postgresql://app:${POSTGRES_PASSWORD:?set it}@db:5432/app
      REDIS_URL: redis://redis:6379/0
      SECRET_KEY_FILE: /run/secrets/secret_key
      PASSWORD_MIN_LENGTH: 12
      JWT_ALGORITHM: HS256
      API_TOKEN:
    secrets: [secret_key]
    cap_drop: [ALL]
    cap_add: [NET_BIND_SERVICE]
    network_mode: bridge
    user: "1000:1000"
  db:
    image: postgres:16.3-alpine
    environment:
      - POSTGRES_USER=app
      - POSTGRES_PASSWORD_FILE=/run/secrets/db_password
      - POSTGRES_PASSWORD=${POSTGRES_PASSWORD}
      - MYSQL_ALLOW_EMPTY_PASSWORD=yes
    volumes:
      - pgdata:/var/lib/postgresql/data
      - /proc:/host/proc:ro
  redis:
    image: redis:7.2@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
    pid: "service:db"
  worker:
    image: ${REGISTRY:-ghcr.io/acme}/worker:${TAG:-latest}
secrets:
  secret_key:
    file: ./secret_key.txt
volumes:
  pgdata: {}
  node_modules: {}
"""


def test_clean_compose_does_not_fire():
    assert found("docker-compose.yml", CLEAN_COMPOSE) == []


@pytest.mark.parametrize(
    "path",
    ["compose.yaml", "deploy/docker-compose.prod.yml", "compose.override.yml", "stack.yml"],
)
def test_compose_is_recognised_by_name_or_by_content(path):
    text = "services:\n  web:\n    image: nginx:latest\n    privileged: true\n"
    assert [rule for rule, _, _ in found(path, text)] == ["unpinned-image", "privileged-container"]


def test_compose_override_files_without_images_are_compose_by_name():
    text = "services:\n  api:\n    environment:\n      STRIPE_API_KEY: sk_test_abc\n"
    assert found("docker-compose.override.yml", text) == [("secret-in-env", 4, HIGH)]
    assert found("config/settings.yml", text) == []  # not Compose: no name, no image/build


def test_other_yaml_with_similar_keys_is_left_alone():
    gitlab = "image: node\nservices:\n  - postgres\nvariables:\n  POSTGRES_PASSWORD: example\ntest:\n  script: npm test\n"
    openapi = "openapi: 3.0.0\npaths:\n  /containers:\n    get:\n      summary: list\n"
    drone = "kind: pipeline\ntype: docker\nsteps:\n  - name: test\n    image: golang\n    privileged: true\n"
    app_config = "# feature flags\nsandbox:\n  privileged: true\n  hostNetwork: true\n"
    assert found(".drone.yml", drone) == []
    assert found("deploy/app-config.yaml", app_config) == []
    assert found("ci/pipeline.yml", gitlab) == []
    assert found("docs/openapi.yaml", openapi) == []


HELM_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "api.fullname" . }}
  labels:
    {{- include "api.labels" . | nindent 4 }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "api.selectorLabels" . | nindent 6 }}
  template:
    spec:
      {{- with .Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml .Values.podSecurityContext | nindent 8 }}
      containers:
        - name: {{ .Chart.Name }}
          securityContext:
            {{- toYaml .Values.securityContext | nindent 12 }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          env:
            - name: DB_PASSWORD
              value: {{ .Values.db.password | quote }}
          ports:
            - name: http
              containerPort: {{ .Values.service.port }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
"""


def test_helm_scaffold_template_is_clean():
    assert found("charts/api/templates/deployment.yaml", HELM_DEPLOYMENT) == []


def test_helm_template_still_fires_on_literal_problems():
    text = (
        HELM_DEPLOYMENT
        + "        - name: debug\n          image: busybox\n          securityContext:\n            privileged: true\n"
    )
    assert found("charts/api/templates/deployment.yaml", text) == [
        ("missing-resource-limits", 36, MEDIUM),
        ("unpinned-image", 37, MEDIUM),
        ("privileged-container", 39, CRITICAL),
    ]


def test_only_changed_lines_are_reported_in_a_modified_file():
    old = HARDENED_DEPLOYMENT
    new = old.replace("            privileged: false\n", "            privileged: true\n").replace(
        "      volumes:\n",
        "        - name: debug\n          image: busybox:latest\n      volumes:\n",
    )
    assert found("k8s/api.yaml", new, old) == [
        ("privileged-container", 54, CRITICAL),
        ("missing-resource-limits", 70, MEDIUM),
        ("unpinned-image", 71, MEDIUM),
    ]
    # Pre-existing problems on unchanged lines stay quiet.
    edited = RISKY_DEPLOYMENT.replace("name: node-agent\nspec", "name: node-agent-v2\nspec")
    assert found("k8s/node-agent.yaml", edited, RISKY_DEPLOYMENT) == []


def test_deleting_limits_is_reported_on_the_resources_left_behind():
    new = HARDENED_DEPLOYMENT.replace("            limits:\n              memory: 256Mi\n", "")
    findings = found("k8s/api.yaml", new, HARDENED_DEPLOYMENT)
    assert findings == [("missing-resource-limits", 60, MEDIUM)]
    assert new.splitlines()[59].strip() == "resources:"


def test_partial_text_of_a_diff_file():
    # Only the hunk around the new sidecar is known; the rest of the file reads as blank lines.
    new = HARDENED_DEPLOYMENT.replace(
        "      volumes:\n",
        "        - name: debug\n          image: busybox\n          securityContext:\n            privileged: true\n      volumes:\n",
    )
    lines = new.splitlines()
    start = lines.index("        - name: debug") + 1
    file = partial("k8s/api.yaml", new, range(start - 3, start + 7), set(range(start, start + 4)))
    assert found_in(file) == [
        ("missing-resource-limits", start),
        ("unpinned-image", start + 1),
        ("privileged-container", start + 3),
    ]
    # A container whose end the hunk does not show is not judged for limits.
    cut = partial("k8s/api.yaml", new, range(start - 3, start + 2), set(range(start, start + 2)))
    assert found_in(cut) == [("unpinned-image", start + 1)]


def test_partial_compose_text_judges_images_of_services_shown_whole():
    old = CLEAN_COMPOSE
    new = old.replace(
        "secrets:\n  secret_key:", "  cache:\n    image: redis\n\nsecrets:\n  secret_key:"
    )
    start = new.splitlines().index("  cache:") + 1
    file = partial("docker-compose.yml", new, range(start - 3, start + 6), {start, start + 1})
    assert found_in(file) == [("unpinned-image", start + 1)]
    built = new.replace("    image: redis\n", "    image: redis\n    build: ./cache\n")
    file = partial(
        "docker-compose.yml", built, range(start - 3, start + 7), {start, start + 1, start + 2}
    )
    assert found_in(file) == []


def test_inline_suppression():
    text = (
        "services:\n  agent:\n    image: acme/agent:1.0.0\n    volumes:\n"
        "      # the agent manages sibling containers\n"
        "      # code-assistant: ignore[orchestration.host-path-mount]\n"
        "      - /var/run/docker.sock:/var/run/docker.sock\n"
        "      - ./data:/data\n"
        "      - /:/host\n"
    )
    assert found("docker-compose.yml", text) == [("host-path-mount", 9, CRITICAL)]


@pytest.mark.parametrize(
    ("path", "claimed"),
    [
        ("k8s/deployment.yaml", True),
        ("charts/api/templates/deployment.yml", True),
        ("docker-compose.yml", True),
        ("Deploy/App.YAML", True),
        (".github/workflows/ci.yml", False),
        ("web/node_modules/pkg/docker-compose.yml", False),
        ("charts/api/templates/tests/test-connection.yaml", False),
        ("tests/fixtures/pod.yaml", False),
        ("k8s/deployment.json", False),
        (".gitlab-ci.yml", False),
        ("ci/action.yml", False),
        ("Dockerfile", False),
    ],
)
def test_path_matching(path, claimed):
    assert PACK.matches(path) is claimed


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("DB_PASSWORD", True),
        ("POSTGRES_PASSWORD", True),
        ("RABBITMQ_DEFAULT_PASS", True),
        ("API_TOKEN", True),
        ("apiKey", True),
        ("STRIPE_API_KEY", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("DJANGO_SECRET_KEY", True),
        ("PGPASSWORD", True),
        ("PASSWORD_MIN_LENGTH", False),
        ("TOKEN_TTL", False),
        ("SECRET_NAME", False),
        ("DB_PASSWORD_FILE", False),
        ("JWT_SECRET_REF", False),
        ("AWS_ACCESS_KEY_ID", False),
        ("STRIPE_PUBLISHABLE_KEY", False),
        ("BYPASS_CACHE", False),
        ("TOKENIZER_MODEL", False),
        ("LOG_LEVEL", False),
    ],
)
def test_secret_names(name, secret):
    assert secret_name(name) is secret


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\x00\ufffd",
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: c\n      image: [unclosed\n",
        "services:\n  web:\n    image: nginx\n   bad: indentation\n",
        "apiVersion: v1\nkind: Pod\nspec: &a\n  containers: *a\n",
        "kind: Pod\napiVersion: v1\nspec:\n  containers:\n" + "  - " * 200 + "x\n",
        "[" * 2000,
        "{{ if }}\n{{\n  containers:\n    - image: nginx\n",
        "apiVersion: v1\nkind: Pod\n---\n--- !!map\n...\n---\n- a\n- b\n",
        "services: !!binary |\n  R0lGODlhDAAMAIQAAP//9/X\n",
        "apiVersion: v1\r\nkind: Pod\r\nspec:\r\n  containers:\r\n    - name: c\r\n      image: nginx\r\n",
    ],
)
def test_odd_input_never_raises(text):
    line_count = max(1, len(text.splitlines()))
    for path in ("k8s/pod.yaml", "docker-compose.yml", "kustomization.yaml"):
        for old in (None, "x\n"):
            for finding in review_text(path, text, old=old, only="orchestration"):
                assert finding.rule.startswith("orchestration.")
                assert 1 <= finding.line <= line_count


def test_every_rule_has_concrete_text():
    assert len(PACK.rules) == 10
    for rule in PACK.rules:
        assert rule.id.startswith("orchestration.")
        assert rule.rationale and rule.suggested_fix
        assert rule.category == rule.category.lower() and " " not in rule.category


# --- Helm values files -------------------------------------------------------------------------

HELM_VALUES = """\
image:
  repository: ghcr.io/acme/agent
  tag: latest
hostNetwork: true
podSecurityContext:
  runAsNonRoot: false
  runAsUser: 0
securityContext:
  privileged: true
  capabilities:
    add: [SYS_ADMIN]
extraEnv:
  - name: DB_PASSWORD
    value: hunter2-prod-7f
extraVolumes:
  - name: logs
    hostPath:
      path: /var/log
"""


def test_helm_values_conventional_chart_keys_fire():
    assert sorted(found("charts/agent/values.yaml", HELM_VALUES)) == [
        ("dangerous-capability", 11, CRITICAL),
        ("host-namespace", 4, HIGH),
        ("host-path-mount", 17, HIGH),
        ("privileged-container", 9, CRITICAL),
        ("run-as-root", 7, MEDIUM),  # one finding for the context, on `runAsUser: 0`
        ("secret-in-env", 14, HIGH),
        ("unpinned-image", 3, MEDIUM),
    ]


def test_helm_values_only_changed_lines_are_reported():
    old = HELM_VALUES.replace("tag: latest", 'tag: "1.4.2"')
    assert found("charts/agent/values-prod.yaml", HELM_VALUES, old) == [
        ("unpinned-image", 3, MEDIUM)
    ]


@pytest.mark.parametrize(
    "text",
    [
        # an empty tag means the chart's appVersion; a digest pins the image
        'image:\n  repository: ghcr.io/acme/api\n  tag: ""\n  pullPolicy: IfNotPresent\n',
        "image:\n  repository: ghcr.io/acme/api\n  tag: latest\n  digest: sha256:abc123\n",
        "initImage: busybox:1.36.1\nsidecar:\n  image: envoyproxy/envoy:v1.31.2\n",
        # switches that are not image references or security contexts
        "pullImage: true\nrbac:\n  privileged: true\nhostNetworkPolicy: enabled\n",
        "podSecurityContext:\n  runAsNonRoot: true\n  runAsUser: 65534\nsecurityContext:\n  privileged: false\n  allowPrivilegeEscalation: false\n  capabilities:\n    drop: [ALL]\n    add: [NET_BIND_SERVICE]\n",
        "env:\n  - name: DB_PASSWORD_FILE\n    value: /run/secrets/db\n  - name: LOG_LEVEL\n    value: info\n",
    ],
)
def test_helm_values_near_misses_are_quiet(text):
    assert found("charts/api/values.yaml", text) == []


def test_values_named_files_outside_charts_with_pod_keys_are_read_as_values():
    text = "agent:\n  hostNetwork: true\n  image:\n    repository: acme/agent\n    tag: latest\n"
    assert sorted(found("ops/values-staging.yml", text)) == [
        ("host-namespace", 2, HIGH),
        ("unpinned-image", 5, MEDIUM),
    ]


# --- run as root: one finding per securityContext -------------------------------------------------

POD = (
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n"
    "      image: nginx:1.27\n      resources:\n        limits: {{memory: 64Mi}}\n      {sc}\n"
)


def test_run_as_root_reports_a_context_once():
    text = POD.format(sc="securityContext:\n        runAsNonRoot: false\n        runAsUser: 0")
    assert [r for r in found("k8s/pod.yaml", text) if r[0] == "run-as-root"] == [
        ("run-as-root", text.splitlines().index("        runAsUser: 0") + 1, MEDIUM)
    ]


def test_run_as_root_points_at_the_changed_key_of_the_context():
    old = POD.format(sc="securityContext:\n        runAsUser: 0")
    new = POD.format(sc="securityContext:\n        runAsUser: 0\n        runAsNonRoot: false")
    line = new.splitlines().index("        runAsNonRoot: false") + 1
    assert [r for r in found("k8s/pod.yaml", new, old) if r[0] == "run-as-root"] == [
        ("run-as-root", line, MEDIUM)
    ]


# --- secret manifests point at the credential ----------------------------------------------------


def test_secret_manifest_points_at_the_first_credential_not_the_username():
    text = """\
apiVersion: v1
kind: Secret
metadata:
  name: notifier
stringData:
  SMTP_USERNAME: postmaster@mg.acme.example
  SMTP_HOST: smtp.eu.mailgun.org
  SLACK_WEBHOOK: https://hooks.slack.com/services/T0/B0/abc
  SMTP_PASSWORD: 3f9c1e7a52b84d06
"""
    assert found("k8s/notifier-secret.yaml", text) == [("secret-manifest", 9, HIGH)]
    # nothing credential-like: the first changed entry, as before
    plain = text.replace("  SMTP_PASSWORD: 3f9c1e7a52b84d06\n", "")
    assert found("k8s/notifier-secret.yaml", plain) == [("secret-manifest", 6, HIGH)]


# --- kustomize image overrides ---------------------------------------------------------------------

CRONJOB_BARE_IMAGE = """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: export
spec:
  schedule: "0 5 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: export
              image: report-runner
              resources:
                limits: {memory: 256Mi}
"""


@pytest.mark.parametrize(
    ("images", "expected"),
    [
        (
            "  - name: report-runner\n    newName: registry.acme.io/report-runner\n    digest: sha256:5b0f\n",
            [],
        ),
        ("  - name: report-runner\n    newTag: 2024.09.2\n", []),
        # pins another image, or floats itself: the bare name is still unpinned
        ("  - name: other-tool\n    newTag: 1.0.0\n", [("unpinned-image", 13)]),
        (
            "  - name: report-runner\n    newTag: latest\n",
            [("unpinned-image", 13), ("unpinned-image", 7)],
        ),
    ],
)
def test_bare_image_names_pinned_by_a_kustomization_in_the_change(images, expected):
    kustomization = (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "resources:\n  - export.yaml\nimages:\n" + images
    )
    findings = found_in_all(
        file_change("k8s/reports/export.yaml", CRONJOB_BARE_IMAGE),
        file_change("k8s/reports/kustomization.yaml", kustomization),
    )
    assert [(rule, line) for rule, _, line in findings] == expected


def test_bare_image_without_a_kustomization_in_the_change_is_unpinned():
    assert found("k8s/reports/export.yaml", CRONJOB_BARE_IMAGE) == [("unpinned-image", 13, MEDIUM)]


def found_in_all(*files: FileUnderReview) -> list[tuple[str, str, int]]:
    return [
        (f.rule.removeprefix("orchestration."), f.file, f.line)
        for f in review(*files, only="orchestration")
    ]


# --- Helm: a trailing `{{- end }}` does not hide a container's missing limits ---------------------

HELM_SIDECAR = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "cache.fullname" . }}
spec:
  template:
    spec:
      containers:
        - name: redis
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
        {{- if .Values.metrics.enabled }}
        - name: metrics
          image: oliver006/redis_exporter:v1.62.0
          ports:
            - containerPort: 9121
        {{- end }}
"""


def test_helm_container_closed_by_a_control_directive_is_judged():
    assert found("charts/cache/templates/deployment.yaml", HELM_SIDECAR) == [
        ("missing-resource-limits", 14, MEDIUM)
    ]


def test_helm_container_ending_in_a_rendering_directive_is_not_judged():
    text = HELM_SIDECAR.replace(
        "            - containerPort: 9121\n",
        '            - containerPort: 9121\n          {{- include "cache.metricsResources" . | nindent 10 }}\n',
    )
    assert found("charts/cache/templates/deployment.yaml", text) == []


# --- folders holding the runtime socket -----------------------------------------------------------


@pytest.mark.parametrize(
    ("mount", "severity"),
    [
        ("/var/run:/var/run:ro", CRITICAL),
        ("/run:/host/run:ro", CRITICAL),
        ("/run/containerd:/run/containerd", CRITICAL),
        ("/var/run:/var/run", CRITICAL),
    ],
)
def test_compose_mount_of_the_runtime_socket_folder_fires_even_read_only(mount, severity):
    text = f"services:\n  agent:\n    image: acme/agent:1.2.3\n    volumes:\n      - {mount}\n"
    findings = review_text("compose.yaml", text, only="orchestration")
    assert [(f.rule, f.line, f.severity) for f in findings] == [
        ("orchestration.host-path-mount", 5, severity)
    ]
    assert "runtime socket" in findings[0].rationale


@pytest.mark.parametrize(
    "mount", ["/var/run/postgresql:/var/run/postgresql", "/sys:/sys:ro", "/proc:/host/proc:ro"]
)
def test_compose_mount_of_other_run_and_read_only_kernel_folders_is_quiet(mount):
    text = f"services:\n  agent:\n    image: acme/agent:1.2.3\n    volumes:\n      - {mount}\n"
    assert found("compose.yaml", text) == []


def test_hostpath_of_the_runtime_socket_folder_is_critical():
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n"
        "      image: acme/agent:1.2.3\n      resources:\n        limits: {memory: 64Mi}\n"
        "  volumes:\n    - name: run\n      hostPath:\n        path: /var/run\n"
    )
    assert found("k8s/pod.yaml", text) == [("host-path-mount", 13, CRITICAL)]


# --- literal credentials passed as command-line flags -----------------------------------------------


def compose_service(lines: str) -> str:
    body = "\n".join("    " + line for line in lines.splitlines())
    return f"services:\n  cache:\n    image: redis:7.2.4\n{body}\n"


@pytest.mark.parametrize(
    ("lines", "line"),
    [
        (
            'command: ["redis-server", "--requirepass", "Xq8v!kR2mZp4Lw9T", "--appendonly", "yes"]',
            4,
        ),
        ("command: redis-server --requirepass 'Xq8v!kR2mZp4Lw9T' --appendonly yes", 4),
        ("command:\n  - redis-server\n  - --requirepass\n  - Xq8v!kR2mZp4Lw9T", 7),
        ('command: ["redis-server", "--masterauth=s3cr3t-Pass"]', 4),
        ('entrypoint: ["/app/server", "--api-key", "sk_live_51Habc"]', 4),
        ('command: ["worker", "--db-password=hunter2hunter2"]', 4),
        ('command: ["sh", "-c", "redis-server --requirepass Xq8v!kR2 && sleep 1"]', 4),
        (
            'healthcheck:\n  test: ["CMD", "mysqladmin", "ping", "-h", "localhost", "-uroot", "-prootpass"]',
            5,
        ),
        ('healthcheck:\n  test: ["CMD-SHELL", "redis-cli -a Xq8v!kR2 ping | grep PONG"]', 5),
        ('command: ["mongosh", "--host", "db", "-u", "admin", "-p", "Sup3rS3cret"]', 4),
        ('command: ["tunnel", "--token", "eyJhIjoiNjQ1ZTk0"]', 4),
    ],
)
def test_compose_literal_credential_flag_fires(lines, line):
    findings = review_text("docker-compose.yml", compose_service(lines), only="orchestration")
    assert [(f.rule, f.line, f.severity) for f in findings] == [
        ("orchestration.secret-in-env", line, HIGH)
    ]
    assert "Xq8v" not in findings[0].rationale and "rootpass" not in findings[0].rationale


@pytest.mark.parametrize(
    "lines",
    [
        'command: ["redis-server", "--requirepass", "${REDIS_PASSWORD}"]',
        'command: ["redis-server", "--requirepass", "$REDIS_PASSWORD"]',
        'command: ["sh", "-c", "redis-server --requirepass \\"$$REDIS_PASSWORD\\""]',
        "command: redis-server --requirepass ${REDIS_PASSWORD:?set it} --appendonly yes",
        'command: ["server", "--password-file", "/run/secrets/db_password"]',
        'command: ["server", "--password-file=/run/secrets/db_password"]',
        'command: ["server", "--token", "/run/secrets/token"]',
        'command: ["server", "--tls-key", "server.key", "--private-key", "key.pem"]',
        'command: ["sh", "-c", "echo \\"$$PW\\" | docker login -u ci --password-stdin ghcr.io"]',
        'command: ["server", "--token-ttl", "3600", "--secret-name", "api-keys"]',
        'command: ["mongod", "--auth", "--bind_ip_all"]',
        'command: ["proxy", "--auth", "basic", "-p", "8080"]',
        'command: ["server", "-p", "8080", "--port", "6379"]',
        'command: ["mysql", "-h", "db", "-P", "3306", "-u", "app", "-p"]',
        'healthcheck:\n  test: ["CMD", "mysqladmin", "ping", "-p$$MYSQL_ROOT_PASSWORD"]',
        'command: ["redis-server", "--requirepass", ""]',
        'command: ["redis-server", "--requirepass", "<your-password>"]',
        '# command: ["redis-server", "--requirepass", "Xq8v!kR2"]\ncommand: ["redis-server"]',
        'command: ["redis-cli", "-h", "cache", "-p", "6379", "ping"]',
    ],
)
def test_compose_credential_flag_near_misses(lines):
    assert found("docker-compose.yml", compose_service(lines)) == []


K8S_ARGS = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: cache
spec:
  selector:
    matchLabels: {app: cache}
  template:
    metadata:
      labels: {app: cache}
    spec:
      containers:
        - name: redis
          image: redis:7.2.4
          resources:
            limits: {memory: 256Mi}
          command: ["redis-server"]
          args: ["--requirepass", "%s", "--maxmemory", "200mb"]
          livenessProbe:
            exec:
              command: ["redis-cli", "-a", "%s", "ping"]
"""


def test_kubernetes_args_and_probe_with_a_literal_password_fire():
    text = K8S_ARGS % ("Xq8v!kR2mZp4Lw9T", "Xq8v!kR2mZp4Lw9T")
    assert found("k8s/cache.yaml", text) == [
        ("secret-in-env", 18, HIGH),
        ("secret-in-env", 21, HIGH),
    ]


@pytest.mark.parametrize("value", ["$(REDIS_PASSWORD)", "${REDIS_PASSWORD}", "$REDIS_PASSWORD"])
def test_kubernetes_args_with_env_expansion_are_quiet(value):
    assert found("k8s/cache.yaml", K8S_ARGS % (value, value)) == []


def test_kubernetes_shell_script_block_reports_the_line_of_the_flag():
    text = (
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: dump\nspec:\n  template:\n"
        "    spec:\n      restartPolicy: Never\n      containers:\n        - name: dump\n"
        "          image: mysql:8.4.0\n          resources:\n            limits: {memory: 1Gi}\n"
        "          command: [sh, -c]\n          args:\n            - |\n"
        "              set -e\n"
        "              mysqldump -h db -u backup -pB4ckup!2024 shop | gzip > /backup/shop.sql.gz\n"
    )
    assert found("k8s/dump.yaml", text) == [("secret-in-env", 18, HIGH)]


def test_credential_flag_on_an_unchanged_line_is_not_reported():
    old = compose_service('command: ["redis-server", "--requirepass", "Xq8v!kR2mZp4Lw9T"]')
    new = old.replace("image: redis:7.2.4", "image: redis:7.2.5")
    assert found("docker-compose.yml", new, old) == []
