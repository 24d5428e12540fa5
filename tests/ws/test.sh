#!/usr/bin/env bash
# The WebSocket examples driven by clients written by others: Python's
# `websockets` and `wsproto`, and raw sockets for what they refuse to send.
# Uses the test venv under target/ (made here when missing, as
# bindings/python/test.sh does) and installs the clients when missing.
# Run by `make test-ws` after `make examples`; extra arguments go to unittest.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/target/py-venv"

if [[ ! -x "$venv/bin/python" ]]; then
    "${PYTHON:-python3}" -m venv "$venv"
fi
py="$venv/bin/python"

missing=()
for module in websockets wsproto; do
    "$py" -c "import $module" 2>/dev/null || missing+=("$module")
done
if ((${#missing[@]})); then
    "$py" -m pip install --quiet "${missing[@]}"
fi

cd "$here"
exec "$py" -m unittest -v "$@"
