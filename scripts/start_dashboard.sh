#!/usr/bin/env bash
# Start the training dashboard (Gradio) on http://127.0.0.1:7860 for this checkout.
#   scripts/start_dashboard.sh [--port 7860] [--host 127.0.0.1] [--root DIR]
# The project root defaults to this checkout; a --root given here wins. Needs the dashboard
# extra: pip install -e '.[dashboard]' (`make test` installs it).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export GRADIO_ANALYTICS_ENABLED=False
train="$here/.venv/bin/code-assistant-train"
if [ ! -x "$train" ]; then
  train="$(command -v code-assistant-train)" || {
    echo "start_dashboard.sh: code-assistant-train not found: pip install -e '.[dashboard]'" >&2
    exit 2
  }
fi
exec "$train" dashboard --root "$here" "$@"
