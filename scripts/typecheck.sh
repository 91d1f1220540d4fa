#!/usr/bin/env bash
# Type-check the package as it is installed (lstm_exam.generator is generator/, lstm_exam.graders
# is graders/: pyproject's package-dir), from a tree of links that lays it out so for mypy.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tree="$(mktemp -d)"
trap 'rm -rf "$tree"' EXIT
mkdir "$tree/lstm_exam"
for f in "$root"/lstm_exam/*.py "$root"/lstm_exam/api "$root"/lstm_exam/cli; do
  ln -s "$f" "$tree/lstm_exam/"
done
ln -s "$root/generator" "$tree/lstm_exam/generator"
ln -s "$root/graders" "$tree/lstm_exam/graders"
cd "$tree"
exec "${MYPY:-$root/.venv/bin/mypy}" --config-file "$root/pyproject.toml" --cache-dir "$root/.mypy_cache" lstm_exam
