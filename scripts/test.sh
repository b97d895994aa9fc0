#!/usr/bin/env bash
# Quick start 2: install huizong with its test tools into .venv and run every test.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh" dev
status=0
python -m pytest -q -n 2 -p no:cacheprovider "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "no test ran" >&2
  exit 1
fi
exit "$status"
