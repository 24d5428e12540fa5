#!/usr/bin/env bash
# From a fresh machine with Python 3 and cargo: make a venv under
# target/py-venv, install the test tools and this package (which builds the
# library), then run the Python test suite. Extra arguments go to pytest.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/target/py-venv"
python="${PYTHON:-python3}"

if [[ ! -x "$venv/bin/python" ]]; then
    "$python" -m venv "$venv"
fi
py="$venv/bin/python"

missing=()
for module in cffi pytest flask requests setuptools setuptools_rust wheel django fastapi uvloop websockets wsproto; do
    "$py" -c "import $module" 2>/dev/null || missing+=("$module")
done
if ((${#missing[@]})); then
    "$py" -m pip install --quiet "${missing[@]//_/-}"
fi

# The build backend (setuptools-rust) comes from the venv: no download per run.
"$py" -m pip install --quiet --force-reinstall --no-deps --no-build-isolation "$here"

# Run from outside the source tree so the installed package is the one imported.
cd "$root/target"
exec "$py" -m pytest -q "$here/tests" "$@"
