#!/usr/bin/env bash
# Create .venv-spark on an NVIDIA DGX Spark (GB10 Grace Blackwell, aarch64, CUDA 13) with the
# spark, qlora and dev extras, then check that PyTorch sees the GPU and run the doctor.
#
# The GB10 needs a PyTorch built for CUDA 13: a plain `pip install torch` may give a CPU-only or
# CUDA 12 wheel that cannot drive it. So torch comes first, from the CUDA 13 index, and is pinned
# while the project's extras install, so no dependency swaps it for the generic wheel.
#
# Usage: scripts/setup_spark_env.sh [-h|--help]
# Settings (environment variables):
#   VENV             where to create the environment      (default .venv-spark)
#   PYTHON           the interpreter that creates it      (default python3; 3.10 or newer)
#   TORCH_INDEX_URL  PyTorch wheel index for CUDA 13      (default https://download.pytorch.org/whl/cu130)
#   TORCH_SPEC       which torch to install from it       (default torch>=2.9)
#   EXTRAS           project extras                       (default spark,qlora,dev)
set -euo pipefail

VENV="${VENV:-.venv-spark}"
PYTHON="${PYTHON:-python3}"
TORCH_INDEX_URL="${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cu130}"
TORCH_SPEC="${TORCH_SPEC:-torch>=2.9}"
EXTRAS="${EXTRAS:-spark,qlora,dev}"

say() { printf 'setup_spark_env: %s\n' "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
  exit 0
fi
[[ $# -eq 0 ]] || die "unexpected argument '$1' (settings are environment variables; see --help)"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
[[ -f pyproject.toml ]] || die "$root has no pyproject.toml: run the script from the repository"

command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found: install python3 and python3-venv"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
  die "$PYTHON is older than 3.10 (set PYTHON=python3.12, for example)"

arch="$(uname -m)"
[[ "$arch" == "aarch64" ]] || say "note: this machine is $arch; the DGX Spark is aarch64 (continuing)"
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | sed 's/^/setup_spark_env: GPU: /' >&2 ||
    say "warning: nvidia-smi could not query the GPU (is the NVIDIA driver loaded?)"
else
  say "warning: nvidia-smi not found: the GPU check at the end will tell whether CUDA works"
fi

case "$VENV" in
  /*) venv_dir="$VENV" ;;
  *) venv_dir="$root/$VENV" ;;
esac
venv_python="$venv_dir/bin/python"

if [[ -x "$venv_python" ]]; then
  say "reusing $VENV"
else
  say "creating $VENV with $("$PYTHON" --version 2>&1)"
  "$PYTHON" -m venv "$VENV" || die "could not create $VENV (on Ubuntu: sudo apt install python3-venv)"
fi

"$venv_python" -m pip install --quiet --upgrade pip

say "installing $TORCH_SPEC from $TORCH_INDEX_URL (CUDA 13 build for the GB10)"
"$venv_python" -m pip install --index-url "$TORCH_INDEX_URL" "$TORCH_SPEC" ||
  die "torch did not install from $TORCH_INDEX_URL (set TORCH_INDEX_URL or TORCH_SPEC)"
torch_version="$("$venv_python" -c 'import torch; print(torch.__version__)')"
cuda_build="$("$venv_python" -c 'import torch; print(torch.version.cuda or "none")')"
say "torch $torch_version (CUDA build: $cuda_build)"
[[ "$cuda_build" == 13.* ]] ||
  say "warning: this torch is built for CUDA $cuda_build, not 13.x: the GB10 may not work with it"

constraints="$(mktemp)"
trap 'rm -f "$constraints"' EXIT
printf 'torch==%s\n' "$torch_version" >"$constraints"
say "installing the project with extras [$EXTRAS] (torch pinned to $torch_version)"
"$venv_python" -m pip install --constraint "$constraints" --editable ".[$EXTRAS]" ||
  die "the project did not install; is every extra in [$EXTRAS] defined in pyproject.toml?"

say "checking that PyTorch sees the GPU"
"$venv_python" -c '
import sys
import torch

if not torch.cuda.is_available():
    sys.exit("torch.cuda.is_available() is False: no usable CUDA device for this torch build")
name = torch.cuda.get_device_name(0)
major, minor = torch.cuda.get_device_capability(0)
x = torch.ones(256, 256, device="cuda")
assert float((x @ x).sum()) == 256.0**3, "a matmul on the GPU gave a wrong result"
print(f"setup_spark_env: PyTorch sees {name} (sm {major}.{minor}); a matmul on it works", file=sys.stderr)
' || die "PyTorch cannot use the GPU (driver, CUDA 13 runtime or torch build); see the message above"

say "code-assistant-train doctor:"
"$venv_python" -m code_assistant_lora.training.cli doctor

say "done: source $VENV/bin/activate"
