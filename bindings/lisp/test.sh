#!/usr/bin/env bash
# Runs the Lisp binding's tests from a fresh Debian machine: installs SBCL and
# the Lisp libraries if missing, builds libc10k (or brings it up to date),
# then runs the fiveam suite. The last line is "N passed, M failed"; the exit
# status is non-zero on any failure.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

need=()
for package in sbcl cl-cffi cl-fiveam cl-bordeaux-threads cl-babel cl-alexandria; do
    dpkg -s "$package" >/dev/null 2>&1 || need+=("$package")
done
command -v python3 >/dev/null || need+=(python3)
python3 -c "import venv, ensurepip" 2>/dev/null || need+=(python3-venv)
if ((${#need[@]})); then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing ${need[*]}"
    $sudo apt-get update -qq && $sudo apt-get install -y -qq "${need[@]}" >/dev/null || {
        echo "0 passed, 1 failed (could not install ${need[*]})"; exit 1; }
fi

# The WebSocket tests use Python's websockets, in the test venv under target/
# (the one tests/ws/test.sh and the Python binding use).
venv="$root/target/py-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv" || {
    echo "0 passed, 1 failed (could not make $venv)"; exit 1; }
"$venv/bin/python" -c "import websockets" 2>/dev/null ||
    "$venv/bin/python" -m pip install --quiet websockets || {
        echo "0 passed, 1 failed (could not install websockets into $venv)"; exit 1; }
export C10K_TEST_PYTHON="$venv/bin/python"

if [ -z "${C10K_LIB:-}" ]; then
    if command -v cargo >/dev/null; then
        (cd "$root" && cargo build --release --quiet) || {
            echo "0 passed, 1 failed (cargo build --release failed)"; exit 1; }
    elif [ ! -f "$root/target/release/libc10k.so" ]; then
        echo "0 passed, 1 failed (no libc10k.so and no cargo to build it)"; exit 1
    fi
fi

# Compiler notes go to /dev/null; errors while loading still reach stderr.
sbcl --noinform --non-interactive \
     --eval '(require :asdf)' \
     --eval "(asdf:load-asd #p\"$here/c10k.asd\")" \
     --eval "(asdf:load-asd #p\"$here/clack-handler-c10k.asd\")" \
     --eval '(let ((*standard-output* (make-broadcast-stream)))
               (handler-bind ((warning (function muffle-warning)))
                 (asdf:load-system "c10k/tests")))' \
     --eval '(uiop:quit (if (uiop:symbol-call :c10k/tests :run-tests) 0 1))'
status=$?
if [ $status -ne 0 ] && [ $status -ne 1 ]; then
    echo "0 passed, 1 failed (the suite did not run: sbcl exited with $status)"
fi
exit $status
