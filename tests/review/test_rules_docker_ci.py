"""The docker_ci rule pack: each rule on realistic firing cases and on its near-misses."""

from __future__ import annotations

import textwrap

import pytest
from rulekit import file_change, review, review_text

from code_assistant_lora.findings import Severity
from code_assistant_lora.review.rule import FileUnderReview, ReviewContext
from code_assistant_lora.review.rules.docker_ci import PACK, file_kind, secret_name

WORKFLOW = ".github/workflows/ci.yml"


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def findings_of(path: str, text: str, rule: str, old: str | None = None):
    return [f for f in review_text(path, src(text), old, only="docker_ci") if f.rule == rule]


# --- path routing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("Dockerfile", "dockerfile"),
        ("services/api/Dockerfile", "dockerfile"),
        ("docker/Dockerfile.prod", "dockerfile"),
        ("Dockerfile-dev", "dockerfile"),
        ("build/api.Dockerfile", "dockerfile"),
        ("worker.dockerfile", "dockerfile"),
        ("Containerfile", "dockerfile"),
        (".github/workflows/ci.yml", "workflow"),
        (".github/workflows/release.yaml", "workflow"),
        (".github/actions/setup/action.yml", "action"),
        ("action.yaml", "action"),
        (".gitlab-ci.yml", "gitlab"),
        ("scripts/install.sh", "shell"),
        ("Dockerfile.dockerignore", None),
        ("tools/dockerfile.py", None),
        ("docs/Dockerfile.md", None),
        ("node_modules/some-pkg/Dockerfile", None),
        ("vendor/github.com/x/y/Dockerfile", None),
        ("config/ci.yml", None),
        (".github/dependabot.yml", None),
        ("src/app.py", None),
    ],
)
def test_path_routing(path: str, kind: str | None) -> None:
    assert file_kind(path) == kind
    assert PACK.matches(path) is (kind is not None)


def test_pack_rules_are_well_formed() -> None:
    ids = [rule.id for rule in PACK.rules]
    assert len(ids) == len(set(ids)) == 9
    assert all(rule_id.startswith("docker_ci.") for rule_id in ids)
    for rule in PACK.rules:
        assert rule.category == rule.category.lower() and " " not in rule.category
        assert rule.rationale and rule.suggested_fix


# --- firing cases ---------------------------------------------------------------------------------

FIRING = [
    # (id, path, source, rule, line, severity)
    (
        "env-literal-password",
        "Dockerfile",
        """
        FROM postgres:16
        ENV POSTGRES_PASSWORD=SuperSecret123
        USER postgres
        """,
        "docker_ci.secret-in-env",
        2,
        Severity.HIGH,
    ),
    (
        "env-legacy-space-form",
        "Dockerfile",
        """
        FROM python:3.12-slim
        ENV DJANGO_SECRET_KEY django-insecure-9x8c7v6b5n4m
        USER app
        """,
        "docker_ci.secret-in-env",
        2,
        Severity.HIGH,
    ),
    (
        "env-multi-pair-with-continuation",
        "Dockerfile",
        """
        FROM node:20-alpine
        ENV NODE_ENV=production \\
            PORT=3000 \\
            API_KEY="a1b2c3d4e5f6g7h8" \\
            LOG_LEVEL=info
        USER node
        """,
        "docker_ci.secret-in-env",
        4,
        Severity.HIGH,
    ),
    (
        "env-live-credential-format",
        "Dockerfile",
        """
        FROM python:3.12-slim
        ENV STRIPE_SECRET_KEY=sk_live_51HxAbCdEfGhIjKlMnOpQrStUv
        USER app
        """,
        "docker_ci.secret-in-env",
        2,
        Severity.CRITICAL,
    ),
    (
        "env-aws-key-id-by-format",
        "Dockerfile",
        """
        FROM amazon/aws-cli:2.15.0
        ENV AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
        USER 1000
        """,
        "docker_ci.secret-in-env",
        2,
        Severity.CRITICAL,
    ),
    (
        "env-url-with-password",
        "Dockerfile",
        """
        FROM python:3.12-slim
        ENV DATABASE_URL=postgres://app:s3cr3tpw@db.internal:5432/app
        USER app
        """,
        "docker_ci.secret-in-env",
        2,
        Severity.HIGH,
    ),
    (
        "bare-arg-token",
        "Dockerfile",
        """
        FROM node:20-alpine
        ARG NPM_TOKEN
        RUN echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > .npmrc && npm ci && rm .npmrc
        USER node
        """,
        "docker_ci.secret-in-env",
        2,
        Severity.MEDIUM,
    ),
    (
        "arg-with-literal-default",
        "Dockerfile",
        """
        FROM golang:1.22
        ARG GITHUB_TOKEN=ghp_1234567890abcdefghijklmnopqrstuvwxyzAB
        USER nobody
        """,
        "docker_ci.secret-in-env",
        2,
        Severity.CRITICAL,
    ),
    (
        "from-untagged",
        "Dockerfile",
        """
        FROM node
        USER node
        """,
        "docker_ci.unpinned-base-image",
        1,
        Severity.MEDIUM,
    ),
    (
        "from-latest",
        "Dockerfile",
        """
        FROM node:latest
        USER node
        """,
        "docker_ci.unpinned-base-image",
        1,
        Severity.MEDIUM,
    ),
    (
        "from-platform-latest-stage",
        "Dockerfile",
        """
        FROM --platform=$BUILDPLATFORM python:latest AS build
        RUN pip wheel -w /wheels .
        FROM python:3.12-slim
        USER app
        """,
        "docker_ci.unpinned-base-image",
        1,
        Severity.MEDIUM,
    ),
    (
        "from-registry-with-port-untagged",
        "Dockerfile",
        """
        FROM registry.internal:5000/team/base
        USER app
        """,
        "docker_ci.unpinned-base-image",
        1,
        Severity.MEDIUM,
    ),
    (
        "from-arg-default-untagged",
        "Dockerfile",
        """
        ARG BASE_IMAGE=ubuntu
        FROM ${BASE_IMAGE}
        USER app
        """,
        "docker_ci.unpinned-base-image",
        2,
        Severity.MEDIUM,
    ),
    (
        "no-user-in-final-stage",
        "Dockerfile",
        """
        FROM python:3.12-slim
        WORKDIR /app
        COPY . .
        CMD ["gunicorn", "app:app"]
        """,
        "docker_ci.runs-as-root",
        1,
        Severity.MEDIUM,
    ),
    (
        "user-only-in-builder",
        "Dockerfile",
        """
        FROM node:20 AS build
        USER node
        RUN npm ci && npm run build
        FROM nginx:1.25-alpine
        COPY --from=build /app/dist /usr/share/nginx/html
        """,
        "docker_ci.runs-as-root",
        4,
        Severity.MEDIUM,
    ),
    (
        "user-root-last",
        "Dockerfile",
        """
        FROM node:20-alpine
        USER node
        RUN npm ci
        USER root
        CMD ["node", "server.js"]
        """,
        "docker_ci.runs-as-root",
        4,
        Severity.MEDIUM,
    ),
    (
        "user-zero-last",
        "Dockerfile",
        """
        FROM debian:12-slim
        USER 0:0
        """,
        "docker_ci.runs-as-root",
        2,
        Severity.MEDIUM,
    ),
    (
        "inherits-root-from-stage",
        "Dockerfile",
        """
        FROM python:3.12-slim AS base
        RUN pip install poetry
        FROM base AS final
        COPY . .
        """,
        "docker_ci.runs-as-root",
        3,
        Severity.MEDIUM,
    ),
    (
        "curl-pipe-sh",
        "Dockerfile",
        """
        FROM ubuntu:22.04
        RUN curl -fsSL https://get.docker.com | sh
        USER app
        """,
        "docker_ci.curl-pipe-shell",
        2,
        Severity.HIGH,
    ),
    (
        "wget-pipe-bash",
        "Dockerfile",
        """
        FROM ubuntu:22.04
        RUN wget -qO- https://example.com/install.sh | bash -s -- --prefix /opt
        USER app
        """,
        "docker_ci.curl-pipe-shell",
        2,
        Severity.HIGH,
    ),
    (
        "curl-pipe-sudo-bash-continued",
        "Dockerfile",
        """
        FROM ubuntu:22.04
        RUN apt-get update && \\
            curl -fsSL https://deb.nodesource.com/setup_20.x \\
              | sudo -E bash - && \\
            apt-get install -y nodejs
        USER app
        """,
        "docker_ci.curl-pipe-shell",
        3,
        Severity.HIGH,
    ),
    (
        "sh-c-command-substitution",
        "Dockerfile",
        """
        FROM debian:12
        RUN sh -c "$(curl -fsSL https://raw.githubusercontent.com/ohmyzsh/ohmyzsh/master/tools/install.sh)"
        USER dev
        """,
        "docker_ci.curl-pipe-shell",
        2,
        Severity.HIGH,
    ),
    (
        "curl-pipe-python",
        "Dockerfile",
        """
        FROM python:3.12-slim
        RUN curl -sSL https://install.python-poetry.org | python3 -
        USER app
        """,
        "docker_ci.curl-pipe-shell",
        2,
        Severity.HIGH,
    ),
    (
        "heredoc-body",
        "Dockerfile",
        """
        FROM alpine:3.19
        RUN <<EOF
        set -e
        apk add --no-cache curl
        curl -sSf https://sh.rustup.rs | sh -s -- -y
        EOF
        USER app
        """,
        "docker_ci.curl-pipe-shell",
        5,
        Severity.HIGH,
    ),
    (
        "bash-process-substitution-in-workflow",
        WORKFLOW,
        """
        on: push
        jobs:
          build:
            runs-on: ubuntu-latest
            steps:
              - run: bash <(curl -s https://codecov.io/bash)
        """,
        "docker_ci.curl-pipe-shell",
        6,
        Severity.HIGH,
    ),
    (
        "curl-pipe-sh-in-run-block",
        WORKFLOW,
        """
        on: push
        jobs:
          lint:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v4
              - name: Install golangci-lint
                run: |
                  set -euo pipefail
                  curl -sSfL https://raw.githubusercontent.com/golangci/golangci-lint/master/install.sh | sh -s -- -b "$(go env GOPATH)/bin" v1.55.2
                  golangci-lint run
        """,
        "docker_ci.curl-pipe-shell",
        10,
        Severity.HIGH,
    ),
    (
        "curl-pipe-sh-in-gitlab",
        ".gitlab-ci.yml",
        """
        test:
          image: python:3.12
          before_script:
            - curl -LsSf https://astral.sh/uv/install.sh | sh
          script:
            - uv run pytest
        """,
        "docker_ci.curl-pipe-shell",
        4,
        Severity.HIGH,
    ),
    (
        "curl-pipe-sh-in-shell-script",
        "scripts/bootstrap.sh",
        """
        #!/usr/bin/env bash
        set -euo pipefail
        curl -fsSL https://get.docker.com | sudo sh
        """,
        "docker_ci.curl-pipe-shell",
        3,
        Severity.HIGH,
    ),
    (
        "pr-target-checkout-head-sha",
        WORKFLOW,
        """
        name: PR checks
        on:
          pull_request_target:
            types: [opened, synchronize]
        jobs:
          test:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v4
                with:
                  ref: ${{ github.event.pull_request.head.sha }}
              - run: npm ci && npm test
                env:
                  NPM_TOKEN: ${{ secrets.NPM_TOKEN }}
        """,
        "docker_ci.pull-request-target-checkout",
        11,
        Severity.CRITICAL,
    ),
    (
        "pr-target-checkout-head-ref-no-build",
        WORKFLOW,
        """
        on: [pull_request_target]
        jobs:
          check:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11 # v4
                with:
                  ref: ${{ github.head_ref }}
                  persist-credentials: false
        """,
        "docker_ci.pull-request-target-checkout",
        8,
        Severity.HIGH,
    ),
    (
        "pr-target-checkout-refs-pull",
        WORKFLOW,
        """
        on:
          pull_request_target:
        jobs:
          build:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v4
                with:
                  ref: refs/pull/${{ github.event.pull_request.number }}/merge
              - run: make build
        """,
        "docker_ci.pull-request-target-checkout",
        9,
        Severity.CRITICAL,
    ),
    (
        "issue-comment-gh-pr-checkout",
        WORKFLOW,
        """
        on:
          issue_comment:
            types: [created]
        jobs:
          bench:
            if: github.event.issue.pull_request && contains(github.event.comment.body, '/bench')
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v4
              - run: |
                  gh pr checkout ${{ github.event.issue.number }}
                  cargo bench
                env:
                  GH_TOKEN: ${{ github.token }}
        """,
        "docker_ci.pull-request-target-checkout",
        11,
        Severity.HIGH,
    ),
    (
        "third-party-action-tag",
        WORKFLOW,
        """
        on: pull_request
        jobs:
          changed:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v4
              - uses: tj-actions/changed-files@v45
        """,
        "docker_ci.unpinned-action",
        7,
        Severity.MEDIUM,
    ),
    (
        "third-party-action-branch",
        WORKFLOW,
        """
        on: push
        jobs:
          deploy:
            runs-on: ubuntu-latest
            steps:
              - name: Deploy
                uses: "some-org/deploy-action@main"
                with:
                  target: prod
        """,
        "docker_ci.unpinned-action",
        7,
        Severity.MEDIUM,
    ),
    (
        "third-party-reusable-workflow",
        WORKFLOW,
        """
        on: push
        jobs:
          release:
            uses: acme/shared-workflows/.github/workflows/release.yml@v2
            secrets: inherit
        """,
        "docker_ci.unpinned-action",
        4,
        Severity.MEDIUM,
    ),
    (
        "composite-action-step",
        ".github/actions/setup/action.yml",
        """
        name: setup
        runs:
          using: composite
          steps:
            - uses: pnpm/action-setup@v4
            - run: pnpm install --frozen-lockfile
              shell: bash
        """,
        "docker_ci.unpinned-action",
        5,
        Severity.MEDIUM,
    ),
    (
        "docker-image-action-by-tag",
        WORKFLOW,
        """
        on: push
        jobs:
          lint:
            runs-on: ubuntu-latest
            steps:
              - uses: docker://hadolint/hadolint:latest
        """,
        "docker_ci.unpinned-action",
        6,
        Severity.MEDIUM,
    ),
    (
        "echo-secret-expression",
        WORKFLOW,
        """
        on: push
        jobs:
          debug:
            runs-on: ubuntu-latest
            steps:
              - run: echo ${{ secrets.DEPLOY_KEY }}
        """,
        "docker_ci.secret-echoed-in-logs",
        6,
        Severity.HIGH,
    ),
    (
        "echo-env-bound-secret",
        WORKFLOW,
        """
        on: push
        jobs:
          deploy:
            runs-on: ubuntu-latest
            env:
              API_TOKEN: ${{ secrets.API_TOKEN }}
            steps:
              - name: Debug
                run: |
                  echo "Using token: $API_TOKEN"
                  ./deploy.sh
        """,
        "docker_ci.secret-echoed-in-logs",
        10,
        Severity.HIGH,
    ),
    (
        "secret-piped-through-base64",
        WORKFLOW,
        """
        on: push
        jobs:
          deploy:
            runs-on: ubuntu-latest
            steps:
              - run: |
                  echo "$KUBECONFIG_DATA" | base64
                env:
                  KUBECONFIG_DATA: ${{ secrets.KUBECONFIG }}
        """,
        "docker_ci.secret-echoed-in-logs",
        7,
        Severity.HIGH,
    ),
    (
        "printenv-with-secrets-in-scope",
        WORKFLOW,
        """
        on: push
        env:
          AWS_SECRET_ACCESS_KEY: ${{ secrets.AWS_SECRET_ACCESS_KEY }}
        jobs:
          build:
            runs-on: ubuntu-latest
            steps:
              - run: printenv | sort
        """,
        "docker_ci.secret-echoed-in-logs",
        8,
        Severity.HIGH,
    ),
    (
        "write-all-workflow-level",
        WORKFLOW,
        """
        on: push
        permissions: write-all
        jobs:
          build:
            runs-on: ubuntu-latest
            steps:
              - run: make
        """,
        "docker_ci.permissions-write-all",
        2,
        Severity.HIGH,
    ),
    (
        "write-all-job-level",
        WORKFLOW,
        """
        on: push
        permissions:
          contents: read
        jobs:
          release:
            runs-on: ubuntu-latest
            permissions: "write-all"
            steps:
              - run: make release
        """,
        "docker_ci.permissions-write-all",
        7,
        Severity.HIGH,
    ),
    (
        "issue-title-in-run",
        WORKFLOW,
        """
        on:
          issues:
            types: [opened]
        jobs:
          triage:
            runs-on: ubuntu-latest
            steps:
              - run: |
                  echo "New issue"
                  echo "${{ github.event.issue.title }}" | tee title.txt
        """,
        "docker_ci.script-injection",
        10,
        Severity.HIGH,
    ),
    (
        "head-ref-in-run",
        WORKFLOW,
        """
        on: pull_request
        jobs:
          lint:
            runs-on: ubuntu-latest
            steps:
              - run: git push origin HEAD:${{ github.head_ref }}
        """,
        "docker_ci.script-injection",
        6,
        Severity.HIGH,
    ),
    (
        "comment-body-in-github-script",
        WORKFLOW,
        """
        on: issue_comment
        jobs:
          reply:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/github-script@v7
                with:
                  script: |
                    const body = `${{ github.event.comment.body }}`;
                    await github.rest.issues.createComment({ ...context.repo, body });
        """,
        "docker_ci.script-injection",
        9,
        Severity.HIGH,
    ),
]


@pytest.mark.parametrize(
    ("path", "source", "rule", "line", "severity"),
    [case[1:] for case in FIRING],
    ids=[case[0] for case in FIRING],
)
def test_rule_fires(path: str, source: str, rule: str, line: int, severity: Severity) -> None:
    assert [(f.line, f.severity) for f in findings_of(path, source, rule)] == [(line, severity)]


# --- near-misses ----------------------------------------------------------------------------------

NEAR_MISSES = [
    # (id, path, source, rule that must stay quiet; "docker_ci" for the whole pack)
    (
        "env-non-secret-names",
        "Dockerfile",
        """
        FROM python:3.12-slim
        ENV NODE_ENV=production \\
            TOKEN_URL=https://auth.example.com/oauth/token \\
            KEYBOARD_LAYOUT=us \\
            PUBLIC_KEY_PATH=/etc/keys/pub.pem \\
            MAX_TOKENS=4096 \\
            TOKENIZERS_PARALLELISM=false
        ENV GPG_KEY A035C8C19219BA821ECEA86B64E628F8D684696D
        ARG PASSWORD_MIN_LENGTH=12
        USER app
        """,
        "docker_ci.secret-in-env",
    ),
    (
        "env-secret-names-without-secret-values",
        "Dockerfile",
        """
        FROM postgres:16
        ENV POSTGRES_PASSWORD_FILE=/run/secrets/db_password \\
            MYSQL_ALLOW_EMPTY_PASSWORD=yes \\
            GOOGLE_APPLICATION_CREDENTIALS=/var/secrets/gcp.json \\
            API_KEY="" \\
            SESSION_SECRET=<set-at-runtime>
        ENV DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/app
        ENV JWT_SECRET=${JWT_SECRET}
        USER postgres
        """,
        "docker_ci.secret-in-env",
    ),
    (
        "build-secret-mount",
        "Dockerfile",
        """
        # syntax=docker/dockerfile:1
        FROM node:20-alpine
        RUN --mount=type=secret,id=npm_token \\
            NPM_TOKEN="$(cat /run/secrets/npm_token)" npm ci
        USER node
        """,
        "docker_ci.secret-in-env",
    ),
    (
        "secret-words-in-comments",
        "Dockerfile",
        """
        FROM node:20-alpine
        # ENV API_KEY=abc123 -- never do this, use a build secret
        # ARG NPM_TOKEN
        USER node
        """,
        "docker_ci.secret-in-env",
    ),
    (
        "tagged-and-digest-images",
        "Dockerfile",
        """
        FROM python:3.12-slim AS build
        FROM node@sha256:0b5e5b6b0e8f3c4a9d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c
        FROM registry.internal:5000/team/base:2024.05
        FROM build
        FROM scratch
        USER 65534
        """,
        "docker_ci.unpinned-base-image",
    ),
    (
        "stage-alias-reference",
        "Dockerfile",
        """
        FROM golang:1.22 AS builder
        RUN go build -o /out/app ./cmd/app
        FROM builder AS final
        USER nobody
        """,
        "docker_ci.unpinned-base-image",
    ),
    (
        "from-arg-with-tagged-default",
        "Dockerfile",
        """
        ARG BASE_IMAGE=python:3.12-slim
        ARG PY_VERSION
        FROM ${BASE_IMAGE} AS base
        FROM python:${PY_VERSION}-alpine
        USER app
        """,
        "docker_ci.unpinned-base-image",
    ),
    (
        "non-root-users",
        "Dockerfile",
        """
        FROM node:20 AS build
        RUN npm ci
        FROM node:20-slim
        COPY --from=build /app /app
        USER 1000:1000
        """,
        "docker_ci.runs-as-root",
    ),
    (
        "root-then-back-to-app",
        "Dockerfile",
        """
        FROM python:3.12-slim
        USER root
        RUN apt-get update && apt-get install -y libpq5
        USER app
        """,
        "docker_ci.runs-as-root",
    ),
    (
        "user-inherited-from-base-stage",
        "Dockerfile",
        """
        FROM python:3.12-slim AS base
        RUN useradd --system app
        USER app
        FROM base AS final
        COPY . /app
        """,
        "docker_ci.runs-as-root",
    ),
    (
        "scratch-and-distroless-nonroot",
        "Dockerfile",
        """
        FROM golang:1.22 AS build
        RUN CGO_ENABLED=0 go build -o /app ./cmd/app
        FROM gcr.io/distroless/static-debian12:nonroot
        COPY --from=build /app /app
        ENTRYPOINT ["/app"]
        """,
        "docker_ci.runs-as-root",
    ),
    (
        "scratch-final",
        "Dockerfile",
        """
        FROM golang:1.22 AS build
        RUN CGO_ENABLED=0 go build -o /app ./cmd/app
        FROM scratch
        COPY --from=build /app /app
        ENTRYPOINT ["/app"]
        """,
        "docker_ci.runs-as-root",
    ),
    (
        "devcontainer",
        ".devcontainer/Dockerfile",
        """
        FROM mcr.microsoft.com/devcontainers/python:1-3.12-bookworm
        RUN pip install pre-commit
        """,
        "docker_ci.runs-as-root",
    ),
    (
        "download-then-verify",
        "Dockerfile",
        """
        FROM debian:12-slim
        RUN curl -fsSLo /tmp/install.sh https://example.com/install.sh \\
         && echo "3f7a9c2e1b0d  /tmp/install.sh" | sha256sum -c - \\
         && sh /tmp/install.sh
        RUN curl -fsSL https://github.com/x/y/releases/download/v1.2.3/y.tar.gz | tar xz -C /usr/local/bin
        RUN curl -s https://api.github.com/repos/x/y/releases/latest | jq -r .tag_name
        RUN curl -fsSL https://download.docker.com/linux/debian/gpg | gpg --dearmor -o /etc/apt/keyrings/docker.gpg
        RUN curl -s https://api.example.com/v | python3 -c "import json,sys; print(json.load(sys.stdin)['v'])"
        RUN echo "curl https://x | sh is not allowed here" > /README
        USER app
        """,
        "docker_ci.curl-pipe-shell",
    ),
    (
        "curl-in-comment-and-quoted",
        WORKFLOW,
        """
        on: push
        jobs:
          build:
            runs-on: ubuntu-latest
            steps:
              - run: |
                  # curl -fsSL https://get.docker.com | sh
                  echo 'do not run: curl x | bash'
                  curl -fsSL -o get-docker.sh https://get.docker.com
        """,
        "docker_ci.curl-pipe-shell",
    ),
    (
        "pr-target-without-head-checkout",
        WORKFLOW,
        """
        name: Labeler
        on: [pull_request_target]
        permissions:
          contents: read
          pull-requests: write
        jobs:
          label:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v4
              - uses: actions/labeler@v5
        """,
        "docker_ci.pull-request-target-checkout",
    ),
    (
        "pull-request-with-head-checkout",
        WORKFLOW,
        """
        on: pull_request
        jobs:
          test:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v4
                with:
                  ref: ${{ github.event.pull_request.head.sha }}
              - run: npm ci && npm test
        """,
        "docker_ci.pull-request-target-checkout",
    ),
    (
        "pr-target-same-repo-guard",
        WORKFLOW,
        """
        on: pull_request_target
        jobs:
          preview:
            if: github.event.pull_request.head.repo.full_name == github.repository
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v4
                with:
                  ref: ${{ github.event.pull_request.head.sha }}
              - run: npm run deploy-preview
        """,
        "docker_ci.pull-request-target-checkout",
    ),
    (
        "pinned-first-party-and-local-actions",
        WORKFLOW,
        """
        on: push
        jobs:
          build:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v4
              - uses: github/codeql-action/init@v3
              - uses: docker/build-push-action@4f58ea79222b3b9dc2c8bbdd6debcef730109a75  # v6
              - uses: ./.github/actions/setup
              - uses: docker://alpine@sha256:c5b1261d6d3e43071626931fc004f70149baeba2c8ec672bd4f27761f8e1ad6b
              - run: echo "uses: some-org/action@v1 in a string"
          call:
            uses: ./.github/workflows/reusable.yml
        """,
        "docker_ci.unpinned-action",
    ),
    (
        "secrets-used-safely",
        WORKFLOW,
        """
        on: push
        jobs:
          deploy:
            runs-on: ubuntu-latest
            steps:
              - name: Login
                run: |
                  echo "${{ secrets.DOCKERHUB_TOKEN }}" | docker login -u acme --password-stdin
                  echo "$SSH_KEY" > ~/.ssh/id_ed25519
                  echo "::add-mask::$DERIVED"
                  echo "token=${{ secrets.X }}" >> "$GITHUB_OUTPUT"
                  printf '%s' "$KUBECONFIG_B64" | base64 -d > kubeconfig
                  echo "Deploying version $VERSION"
                  ./deploy.sh --token "$SSH_KEY"
                env:
                  SSH_KEY: ${{ secrets.SSH_KEY }}
                  KUBECONFIG_B64: ${{ secrets.KUBECONFIG }}
                  VERSION: ${{ github.sha }}
              - run: printenv | sort
        """,
        "docker_ci.secret-echoed-in-logs",
    ),
    (
        "scoped-and-read-all-permissions",
        WORKFLOW,
        """
        on: push
        permissions: read-all
        jobs:
          release:
            runs-on: ubuntu-latest
            permissions:
              contents: write
              packages: write
            steps:
              - run: make release
        """,
        "docker_ci.permissions-write-all",
    ),
    (
        "event-text-through-env",
        WORKFLOW,
        """
        on:
          issues:
            types: [opened]
        jobs:
          triage:
            if: contains(github.event.issue.title, 'bug')
            runs-on: ubuntu-latest
            steps:
              - uses: actions/github-script@v7
                with:
                  title: ${{ github.event.issue.title }}
              - env:
                  TITLE: ${{ github.event.issue.title }}
                run: |
                  echo "$TITLE"
                  echo "${{ github.event.issue.number }} by ${{ github.actor }}"
        """,
        "docker_ci.script-injection",
    ),
    (
        "clean-dockerfile",
        "services/api/Dockerfile",
        """
        # syntax=docker/dockerfile:1.7
        ARG PYTHON_VERSION=3.12
        FROM python:${PYTHON_VERSION}-slim AS build
        ENV PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
        WORKDIR /src
        COPY requirements.txt .
        RUN --mount=type=cache,target=/root/.cache/pip \\
            pip wheel --wheel-dir /wheels -r requirements.txt

        FROM python:${PYTHON_VERSION}-slim
        ENV PYTHONUNBUFFERED=1 PORT=8000
        RUN useradd --system --uid 10001 app
        COPY --from=build /wheels /wheels
        RUN pip install --no-index /wheels/* && rm -rf /wheels
        COPY --chown=app:app . /app
        WORKDIR /app
        USER app
        EXPOSE 8000
        CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app.wsgi:application"]
        """,
        "docker_ci",
    ),
    (
        "clean-workflow",
        WORKFLOW,
        """
        name: CI
        on:
          push:
            branches: [main]
          pull_request:
        permissions:
          contents: read
        concurrency:
          group: ${{ github.workflow }}-${{ github.ref }}
          cancel-in-progress: true
        jobs:
          test:
            runs-on: ubuntu-latest
            strategy:
              matrix:
                python: ["3.11", "3.12"]
            steps:
              - uses: actions/checkout@v4
              - uses: actions/setup-python@v5
                with:
                  python-version: ${{ matrix.python }}
                  cache: pip
              - name: Install
                run: |
                  python -m pip install --upgrade pip
                  pip install -e ".[dev]"
              - name: Test
                run: pytest -q --cov
                env:
                  DATABASE_URL: ${{ secrets.TEST_DATABASE_URL }}
              - uses: actions/upload-artifact@v4
                if: always()
                with:
                  name: coverage-${{ matrix.python }}
                  path: coverage.xml
        """,
        "docker_ci",
    ),
]


@pytest.mark.parametrize(
    ("path", "source", "rule"),
    [case[1:] for case in NEAR_MISSES],
    ids=[case[0] for case in NEAR_MISSES],
)
def test_near_miss_stays_quiet(path: str, source: str, rule: str) -> None:
    findings = review_text(path, src(source), only="docker_ci")
    assert [f for f in findings if f.rule == rule or rule == "docker_ci"] == []


# --- specific behaviours --------------------------------------------------------------------------


def test_every_secret_form_in_one_env_is_found_on_its_own_line() -> None:
    findings = findings_of(
        "Dockerfile",
        """
        FROM node:20-alpine
        ENV NODE_ENV=production \\
            DB_PASSWORD=hunter2hunter2 \\
            # a comment inside the continuation
            REDIS_URL=redis://cache:6379 \\
            JWT_SECRET='a very long literal secret'
        ARG NPM_TOKEN GITHUB_TOKEN
        USER node
        """,
        "docker_ci.secret-in-env",
    )
    assert [(f.line, f.severity) for f in findings] == [
        (3, Severity.HIGH),
        (6, Severity.HIGH),
        (7, Severity.MEDIUM),
    ]


def test_env_copying_a_build_arg_is_worse_than_the_arg() -> None:
    findings = findings_of(
        "Dockerfile",
        """
        FROM node:20-alpine
        ARG SENTRY_AUTH_TOKEN
        ENV SENTRY_AUTH_TOKEN=${SENTRY_AUTH_TOKEN}
        USER node
        """,
        "docker_ci.secret-in-env",
    )
    assert [(f.line, f.severity) for f in findings] == [(2, Severity.MEDIUM), (3, Severity.HIGH)]
    assert "runtime environment" in findings[1].rationale


@pytest.mark.parametrize(
    ("env", "fires"),
    [
        ("REDIS_URL=redis://:9vQm2Lx7TzR4pWk8@redis:6379/0", True),
        ("CELERY_BROKER_URL=rediss://:hunter2hunter2@cache.internal:6380/0", True),
        ("FLOWER_BASIC_AUTH=ops:fl0wer-Adm1n-2024", True),
        ("PROXY_AUTH=alice:s3cretpass,bob:an0therpass", True),
        ("REDIS_URL=redis://redis:6379/0", False),
        ("CELERY_RESULT_BACKEND=redis://redis.internal:6379/1", False),
        ("AUTH_SERVER=keycloak.internal:8443", False),
        ("AUTH_DOMAIN=acme.eu.auth0.com", False),
        ("BASIC_AUTH_ENABLED=true", False),
        ("AUTH_ISSUER=https://login.acme.dev/realms/main", False),
        ("PUBLIC_AUTH_DEMO=demo:demo-password", False),
    ],
)
def test_url_and_user_password_credentials(env: str, fires: bool) -> None:
    text = f"FROM python:3.12-slim\nENV {env}\nUSER app\n"
    findings = findings_of("Dockerfile", text, "docker_ci.secret-in-env")
    assert [(f.line, f.severity) for f in findings] == ([(2, Severity.HIGH)] if fires else [])
    for finding in findings:
        assert env.split("=", 1)[1] not in finding.rationale


def test_secret_value_never_appears_in_a_finding() -> None:
    text = src(
        """
        FROM python:3.12-slim
        ENV OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwxyz0123456789
        ENV DATABASE_URL=postgres://app:pa55word-value@db/app
        ARG ADMIN_PASSWORD=correct-horse-battery
        USER app
        """
    )
    findings = review_text("Dockerfile", text, only="docker_ci")
    assert {f.line for f in findings} == {2, 3, 4}
    for finding in findings:
        for value in ("abcdefghijklmnop", "pa55word-value", "correct-horse"):
            assert value not in finding.rationale and value not in finding.suggested_fix
    assert "`ENV OPENAI_API_KEY`" in findings[0].rationale


def test_rationale_names_the_image_and_action() -> None:
    [image] = findings_of(
        "Dockerfile", "FROM node:latest\nUSER node\n", "docker_ci.unpinned-base-image"
    )
    assert "`node:latest`" in image.rationale
    [action] = findings_of(
        WORKFLOW,
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: acme/deploy@v1\n",
        "docker_ci.unpinned-action",
    )
    assert "`acme/deploy@v1`" in action.rationale and "`@v1`" in action.rationale


@pytest.mark.parametrize(
    "uses",
    [
        "acme/deploy@v1.2.3",
        "acme/deploy@main",
        "acme/deploy@a1b2c3d",  # a short SHA is still ambiguous
        "acme/deploy",
    ],
)
def test_unpinned_action_variants(uses: str) -> None:
    text = f"on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: {uses}\n"
    assert [f.line for f in findings_of(WORKFLOW, text, "docker_ci.unpinned-action")] == [6]


def test_slsa_generator_tag_reference_is_not_unpinned() -> None:
    text = src(
        """
        on: push
        jobs:
          build:
            uses: slsa-framework/slsa-github-generator/.github/workflows/builder_go_slsa3.yml@v2.1.0
          provenance:
            uses: slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@main
          verify:
            runs-on: ubuntu-latest
            steps:
              - uses: slsa-framework/slsa-verifier/actions/installer@v2.7.1
        """
    )
    findings = review_text(WORKFLOW, text, only="docker_ci")
    assert [(f.rule, f.line) for f in findings] == [
        ("docker_ci.unpinned-action", 6),
        ("docker_ci.unpinned-action", 10),
    ]


@pytest.mark.parametrize(
    "command",
    [
        "curl -fsSL https://x.example/install.sh | sh",
        "curl -fsSL https://x.example/install.sh | sudo bash",
        "curl -fsSL https://x.example/install.sh | sudo -E bash -",
        "wget -qO- https://x.example/install.sh | bash",
        "wget -O - https://x.example/install.sh | sh -s -- -y",
        "curl -sL https://x.example/i.sh | tee /tmp/i.sh | bash",
        'bash -c "$(curl -fsSL https://x.example/install.sh)"',
        'sh -c "$(wget -qO- https://x.example/install.sh)"',
        "source <(curl -s https://x.example/env.sh)",
        'eval "$(curl -fsSL https://x.example/env.sh)"',
        "curl -sSL https://install.python-poetry.org | python3 -",
        "iwr -useb https://get.scoop.sh | iex",
        "python3 <(curl -sL https://x.example/generator.py) Cargo.lock -o sources.json",
        "node <(wget -qO- https://x.example/setup.js)",
    ],
)
def test_curl_pipe_shell_variants(command: str) -> None:
    text = f"FROM alpine:3.19\nRUN {command}\nUSER app\n"
    findings = findings_of("Dockerfile", text, "docker_ci.curl-pipe-shell")
    assert [(f.line, f.severity) for f in findings] == [(2, Severity.HIGH)]


@pytest.mark.parametrize(
    "command",
    [
        "curl -fsSL https://x.example/y.tar.gz | tar -xz",
        "curl -s https://x.example/api | jq .version",
        "curl -fsSL https://x.example/key.asc | sudo apt-key add -",
        "curl -fsSL https://x.example/y.sh -o y.sh && sha256sum -c y.sh.sha256 && bash y.sh",
        "curl -s https://x.example/v.json | python3 -c 'import json,sys; print(json.load(sys.stdin))'",
        "curl -s https://x.example/list | bash -c 'while read l; do echo $l; done'",
        "echo 'curl https://x.example | sh'",
        "wget https://x.example/install.sh && chmod +x install.sh",
        "curl -s https://x.example/a || sh fallback.sh",
        "python3 -m json.tool <(curl -s https://x.example/a.json)",
        "diff <(curl -s https://x.example/a) <(curl -s https://x.example/b)",
    ],
)
def test_curl_near_miss_variants(command: str) -> None:
    text = f"FROM alpine:3.19\nRUN {command}\nUSER app\n"
    assert findings_of("Dockerfile", text, "docker_ci.curl-pipe-shell") == []


def test_exec_form_run_is_read() -> None:
    text = 'FROM alpine:3.19\nRUN ["/bin/sh", "-c", "curl -fsSL https://x.example/i.sh | sh"]\nUSER app\n'
    assert [f.line for f in findings_of("Dockerfile", text, "docker_ci.curl-pipe-shell")] == [2]


def test_multiline_curl_reports_the_download_line_and_spans_to_the_shell() -> None:
    text = """
    FROM alpine:3.19
    RUN apk add curl && \\
        curl -fsSL https://x.example/install.sh \\
        | sh
    USER app
    """
    [finding] = findings_of("Dockerfile", text, "docker_ci.curl-pipe-shell")
    assert (finding.line, finding.end_line) == (3, 4)


def test_changing_only_the_pipe_target_fires_on_the_download_line() -> None:
    old = src(
        """
        FROM alpine:3.19
        RUN curl -fsSL https://x.example/tool.tar.gz \\
            | tar xz -C /usr/local/bin
        USER app
        """
    )
    new = old.replace("| tar xz -C /usr/local/bin", "| sh")
    findings = review_text("Dockerfile", new, old, only="docker_ci")
    assert [(f.rule, f.line, f.end_line) for f in findings] == [("docker_ci.curl-pipe-shell", 2, 3)]


@pytest.mark.parametrize(
    ("step", "fires"),
    [
        ("run: echo ${{ secrets.TOKEN }}", True),
        ('run: echo "token is ${{ secrets.TOKEN }}" >&2', True),
        ("run: Write-Host $env:MY_TOKEN", True),
        ('run: echo "${MY_TOKEN:0:4}..."', True),
        ('run: echo "${{ toJSON(secrets) }}"', True),
        ("run: echo ${{ secrets.TOKEN }} | sed 's/./& /g'", True),
        ('run: echo "${{ secrets.TOKEN }}" > token.txt', False),
        ('run: echo "${{ secrets.TOKEN }}" | gh auth login --with-token', False),
        ('run: echo "::add-mask::${{ secrets.TOKEN }}"', False),
        ('run: echo "$OTHER"', False),
        ('run: echo "token configured: ${MY_TOKEN:+yes}"', False),
        ('run: echo "token configured: ${MY_TOKEN+yes}"', False),
        ('run: echo "token: ${MY_TOKEN:-unset}"', True),
        ('run: curl -H "Authorization: Bearer $MY_TOKEN" https://api.example.com', False),
    ],
)
def test_secret_echo_variants(step: str, fires: bool) -> None:
    text = f"""
    on: push
    jobs:
      a:
        runs-on: ubuntu-latest
        steps:
          - {step}
            env:
              MY_TOKEN: ${{{{ secrets.MY_TOKEN }}}}
              OTHER: plain
    """
    findings = findings_of(WORKFLOW, text, "docker_ci.secret-echoed-in-logs")
    assert [f.line for f in findings] == ([6] if fires else [])


@pytest.mark.parametrize(
    ("line", "fires"),
    [
        ("issue='${{ toJSON(github.event.issue) }}'", True),
        ("echo '${{ toJson(github.event) }}' | jq .action", True),
        ("echo '${{ tojson(github.event.pull_request.head) }}' > head.json", True),
        ("printf '%s' '${{ toJSON(github) }}' > context.json", True),
        ("echo '${{ toJSON(github.event.commits) }}' | jq -r '.[].id'", True),
        ("echo '${{ toJSON(github.event.issue.labels) }}' | jq -r '.[].name'", False),
        ("echo '${{ toJSON(matrix) }}'", False),
        ("echo '${{ toJSON(steps.meta.outputs) }}'", False),
        ("printf '%s' \"$EVENT_JSON\" | jq .action", False),
    ],
)
def test_serialized_event_objects_are_script_injection(line: str, fires: bool) -> None:
    text = f"""
    on:
      issues:
        types: [opened]
    jobs:
      sync:
        runs-on: ubuntu-latest
        steps:
          - env:
              EVENT_JSON: ${{{{ toJSON(github.event) }}}}
            run: |
              {line}
    """
    findings = findings_of(WORKFLOW, text, "docker_ci.script-injection")
    assert [f.line for f in findings] == ([11] if fires else [])
    if fires:
        assert "(github" in findings[0].rationale


@pytest.mark.parametrize(
    ("run", "fires"),
    [
        ('echo "app token: ${{ steps.app.outputs.token }}"', True),
        ('echo "${{ steps.auth.outputs.access_token }}" | base64', True),
        ('echo "minted $APP_TOKEN"', True),
        ('echo "${{ steps.app.outputs.token }}" | gh auth login --with-token', False),
        ('echo "token expires ${{ steps.app.outputs.token-expires-at }}"', False),
        ('echo "cache key ${{ steps.cache-key.outputs.key }}"', False),
        ('echo "tags: ${{ steps.meta.outputs.tags }}"', False),
    ],
)
def test_credential_step_outputs_count_as_secrets(run: str, fires: bool) -> None:
    text = f"""
    on: push
    jobs:
      a:
        runs-on: ubuntu-latest
        steps:
          - id: app
            uses: actions/create-github-app-token@v1
          - env:
              APP_TOKEN: ${{{{ steps.app.outputs.token }}}}
            run: {run}
    """
    findings = findings_of(WORKFLOW, text, "docker_ci.secret-echoed-in-logs")
    assert [f.line for f in findings] == ([10] if fires else [])


def test_pull_request_target_added_to_an_existing_head_checkout_fires() -> None:
    old = src(
        """
        on: pull_request
        jobs:
          test:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v4
                with:
                  ref: ${{ github.event.pull_request.head.sha }}
              - run: npm ci && npm test
        """
    )
    new = old.replace("on: pull_request\n", "on: pull_request_target\n")
    findings = review_text(WORKFLOW, new, old, only="docker_ci")
    assert [(f.rule, f.line, f.severity) for f in findings] == [
        ("docker_ci.pull-request-target-checkout", 8, Severity.CRITICAL)
    ]


def test_removing_the_user_line_fires_on_the_final_from() -> None:
    old = src(
        """
        FROM python:3.12-slim
        RUN useradd app
        USER app
        CMD ["python", "app.py"]
        """
    )
    new = old.replace("USER app\n", "")
    findings = review_text("Dockerfile", new, old, only="docker_ci")
    assert [(f.rule, f.line) for f in findings] == [("docker_ci.runs-as-root", 1)]
    assert "`USER app`" in findings[0].rationale


def test_only_changed_lines_are_reported() -> None:
    old = src(
        """
        FROM node:latest
        ENV API_KEY=old-literal-key-value
        RUN npm ci
        CMD ["node", "server.js"]
        """
    )
    new = old.replace("RUN npm ci\n", "RUN npm ci\nARG NPM_TOKEN\n")
    findings = review_text("Dockerfile", new, old, only="docker_ci")
    assert [(f.rule, f.line) for f in findings] == [("docker_ci.secret-in-env", 4)]


def test_only_changed_workflow_lines_are_reported() -> None:
    old = src(
        """
        on: push
        permissions: write-all
        jobs:
          a:
            runs-on: ubuntu-latest
            steps:
              - uses: acme/old@v1
        """
    )
    new = old + "      - uses: acme/new@v2\n"
    findings = review_text(WORKFLOW, new, old, only="docker_ci")
    assert [(f.rule, f.line) for f in findings] == [("docker_ci.unpinned-action", 8)]


def test_inline_ignore_suppresses() -> None:
    text = src(
        """
        FROM node:20-alpine
        # code-assistant: ignore[docker_ci.curl-pipe-shell]
        RUN curl -fsSL https://x.example/install.sh | sh
        ARG NPM_TOKEN  # code-assistant: ignore[docker_ci.secret-in-env]
        USER node
        """
    )
    assert review_text("Dockerfile", text, only="docker_ci") == []


def test_invalid_yaml_falls_back_to_lines() -> None:
    text = src(
        """
        on: [pull_request_target
        permissions: write-all
        jobs:
          build:
            steps:
              - uses: actions/checkout@v4
                with:
                  ref: ${{ github.event.pull_request.head.sha }}
              - uses: acme/build@v1
              - run: |
                  echo "${{ github.event.pull_request.title }}"
                  curl -s https://x.example/i.sh | bash
        """
    )
    findings = review_text(WORKFLOW, text, only="docker_ci")
    assert sorted((f.line, f.rule) for f in findings) == [
        (2, "docker_ci.permissions-write-all"),
        (8, "docker_ci.pull-request-target-checkout"),
        (9, "docker_ci.unpinned-action"),
        (11, "docker_ci.script-injection"),
        (12, "docker_ci.curl-pipe-shell"),
    ]


def test_sparse_diff_text_is_read_by_lines() -> None:
    """A diff file shows only hunks; the rest of the new file is blank lines."""
    sparse = "\n" * 12 + "      - uses: acme/deploy@main\n" + "\n" * 3
    sparse += "      - run: |\n          echo ${{ secrets.TOKEN }}\n"
    change = FileUnderReview(
        path=WORKFLOW, status="modified", text=sparse, added_lines=frozenset({13, 18})
    )
    findings = review(change, only="docker_ci")
    assert sorted((f.line, f.rule) for f in findings) == [
        (13, "docker_ci.unpinned-action"),
        (18, "docker_ci.secret-echoed-in-logs"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "   \n\t\n",
        "\x00\x01binary\x00\ufffd",
        "FROM\nUSER\nENV\nARG =\nRUN [\nENV A\nRUN <<EOF\n",
        "RUN curl x | \\\n",
        "on: [\njobs: {a: [",
        "jobs:\n  a: &a\n    steps: *a\n",
        "- a\n- b\n",
        "on: push\njobs:\n  a:\n    steps:\n      - run: |\n",
        "[" * 300 + "]" * 300,
        'run: "' + "'" * 500,
    ],
)
def test_checks_never_raise_on_odd_input(text: str | None) -> None:
    status = "deleted" if text is None else "added"
    for path in ("Dockerfile", WORKFLOW, "action.yml", ".gitlab-ci.yml", "x.sh"):
        file = FileUnderReview(path=path, status=status, text=text, added_lines=frozenset({1}))
        context = ReviewContext(files=(file,))
        for _rule, check in PACK.checks:
            list(check(file, context))


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("API_KEY", True),
        ("apiKey", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("SECRET_KEY_BASE", True),
        ("DB_PASS", True),
        ("PRIVATE_KEY", True),
        ("AWS_ACCESS_KEY_ID", False),
        ("TOKEN_URL", False),
        ("PASSWORD_MIN_LENGTH", False),
        ("KEYBOARD", False),
        ("PUBLIC_KEY_PATH", False),
        ("NEXT_PUBLIC_API_KEY", False),
        ("GPG_KEY", False),
        ("MAX_TOKENS", False),
        ("POSTGRES_PASSWORD_FILE", False),
    ],
)
def test_secret_names(name: str, secret: bool) -> None:
    assert secret_name(name) is secret


def test_large_clean_files_give_no_findings() -> None:
    """Size alone never produces findings (speed is measured by benchmarks/review_speed.py)."""
    dockerfile = (
        "FROM python:3.12-slim AS base\nENV PYTHONUNBUFFERED=1 \\\n    PIP_NO_CACHE_DIR=1\n"
        "RUN apt-get update && apt-get install -y curl \\\n && rm -rf /var/lib/apt/lists/*\n"
        "RUN curl -fsSL https://x.example/y.tgz | tar xz\nUSER app\n"
    ) * 700
    step = (
        "      - uses: actions/checkout@v4\n      - run: |\n          make build | tee build.log\n"
        '          echo "done $VERSION"\n        env:\n          VERSION: ${{ github.sha }}\n'
    )
    workflow = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n" + step * 600
    findings = review(
        file_change("Dockerfile", dockerfile),
        file_change(WORKFLOW, workflow),
        only="docker_ci",
    )
    assert findings == []


# --- files written from a secret, then printed ------------------------------------------------------


def secret_file_workflow(write: str, show: str) -> str:
    return f"""
    on: push
    jobs:
      deploy:
        runs-on: ubuntu-latest
        steps:
          - env:
              KUBECONFIG_DATA: ${{{{ secrets.KUBECONFIG }}}}
              PLAIN: hello
            run: |
              {write}
              {show}
    """


@pytest.mark.parametrize(
    ("write", "show"),
    [
        (
            'echo "$KUBECONFIG_DATA" | base64 -d > "$RUNNER_TEMP/kubeconfig"',
            'cat "$RUNNER_TEMP/kubeconfig"',
        ),
        (
            'echo "${{ secrets.SA_KEY }}" > ${{ runner.temp }}/sa.json',
            "cat ${RUNNER_TEMP}/sa.json",
        ),
        ("printf '%s' \"$KUBECONFIG_DATA\" >> ~/.kube/config", "head -n 20 $HOME/.kube/config"),
        (
            'echo "$KUBECONFIG_DATA" | base64 --decode | tee kubeconfig.yaml > /dev/null',
            "tail kubeconfig.yaml",
        ),
        (
            'gpg --batch --passphrase "$KUBECONFIG_DATA" --output secrets.env -d secrets.env.gpg',
            "cat ./secrets.env",
        ),
        ('echo "$KUBECONFIG_DATA" | base64 -d > kc', 'echo "config: $(cat kc)"'),
        ('echo "$KUBECONFIG_DATA" > kc', "cat kc | base64"),
        (
            'echo "$KUBECONFIG_DATA" > kc.b64 && base64 -d kc.b64 > kc.yaml',
            "less kc.yaml",
        ),
        ('echo "$KUBECONFIG_DATA" > kc', "cat kc 2>/dev/null"),
    ],
)
def test_printing_a_file_written_from_a_secret_fires(write: str, show: str) -> None:
    findings = findings_of(
        WORKFLOW, secret_file_workflow(write, show), "docker_ci.secret-echoed-in-logs"
    )
    assert [(f.line, f.severity) for f in findings] == [(11, Severity.HIGH)]
    assert "line 10" in findings[0].rationale


@pytest.mark.parametrize(
    ("write", "show"),
    [
        ('echo "$KUBECONFIG_DATA" > kc', "cat kc | kubectl apply -f -"),
        ('echo "$KUBECONFIG_DATA" > kc', "cat kc > backup.yaml"),
        ('echo "$KUBECONFIG_DATA" > kc', "chmod 600 kc"),
        ('echo "$KUBECONFIG_DATA" > kc', 'export KUBECONFIG="$PWD/kc"'),
        ('echo "$KUBECONFIG_DATA" > kc', "kubectl --kubeconfig kc get pods"),
        ('echo "$KUBECONFIG_DATA" > kc', 'test -s kc && echo "kubeconfig written"'),
        ('echo "$KUBECONFIG_DATA" > kc', "wc -c kc"),
        ('echo "$KUBECONFIG_DATA" > kc', "cat values.yaml"),
        ('echo "$PLAIN" > notes.txt', "cat notes.txt"),
        (
            'curl -sS -H "Authorization: Bearer $KUBECONFIG_DATA" -o release.json https://x.example',
            "cat release.json",
        ),
        ('echo "$KUBECONFIG_DATA" | kubectl apply -f - > applied.txt', "tail applied.txt"),
        ('echo "$KUBECONFIG_DATA" > kc', "# cat kc"),
    ],
)
def test_secret_file_near_misses(write: str, show: str) -> None:
    text = secret_file_workflow(write, show)
    assert findings_of(WORKFLOW, text, "docker_ci.secret-echoed-in-logs") == []


def test_secret_file_written_by_an_earlier_step_of_the_job_fires() -> None:
    text = """
    on: push
    jobs:
      deploy:
        runs-on: ubuntu-latest
        steps:
          - name: Write kubeconfig
            run: echo "${{ secrets.KUBECONFIG }}" | base64 -d > "${{ runner.temp }}/kubeconfig"
          - name: Debug
            run: |
              ls -la "$RUNNER_TEMP"
              cat "$RUNNER_TEMP/kubeconfig"
      other:
        runs-on: ubuntu-latest
        steps:
          - run: cat "$RUNNER_TEMP/kubeconfig"
    """
    findings = findings_of(WORKFLOW, text, "docker_ci.secret-echoed-in-logs")
    assert [f.line for f in findings] == [11]  # the other job runs on another runner


def test_secret_file_written_by_a_heredoc_fires() -> None:
    text = """
    on: push
    jobs:
      publish:
        runs-on: ubuntu-latest
        steps:
          - run: |
              cat > ~/.npmrc <<EOF
              //registry.npmjs.org/:_authToken=${{ secrets.NPM_TOKEN }}
              EOF
              cat ~/.npmrc
              cat > notes.txt <<'EOF'
              plain text
              EOF
              cat notes.txt
    """
    findings = findings_of(WORKFLOW, text, "docker_ci.secret-echoed-in-logs")
    assert [f.line for f in findings] == [10]


def test_printing_an_unchanged_secret_file_line_is_not_reported() -> None:
    old = src(secret_file_workflow('echo "$KUBECONFIG_DATA" > kc', "cat kc"))
    new = old.replace("PLAIN: hello", "PLAIN: hello there")
    findings = review_text(WORKFLOW, new, old, only="docker_ci")
    assert [f for f in findings if f.rule == "docker_ci.secret-echoed-in-logs"] == []
