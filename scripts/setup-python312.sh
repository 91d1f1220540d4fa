#!/usr/bin/env bash
# A second virtual environment on Python 3.12 (default .venv312/) with the package and its
# test tools (no torch, no Keras), for `make test`'s run of the chain and equivalence tests
# on 3.12: its float `sum` compensates where 3.11's does not, and the outputs must not
# depend on which one runs them. The interpreter: $PYTHON312 if set, else the newest
# pyenv 3.12.x, else `python3.12` on the PATH. None of them: an error, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-.venv312}"

is_312() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null; }

find_312() {
    if [[ -n "${PYTHON312:-}" ]]; then
        echo "$PYTHON312"
        return
    fi
    local root="${PYENV_ROOT:-$HOME/.pyenv}"
    if command -v pyenv >/dev/null 2>&1; then root="$(pyenv root)"; fi
    local version
    for version in $(ls "$root/versions" 2>/dev/null | grep -E '^3\.12\.[0-9]+$' | sort -rV); do
        echo "$root/versions/$version/bin/python"
        return
    done
    command -v python3.12 || true
}

python="$(find_312)"
if [[ -z "$python" ]] || ! is_312 "$python"; then
    echo "error: no Python 3.12 found (set PYTHON312, or: pyenv install 3.12): make test runs the chain and equivalence tests on 3.12 too" >&2
    exit 1
fi
"$python" -m venv "$venv"
"$venv/bin/pip" install -q -e ".[test]"
