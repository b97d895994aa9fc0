# Sourced by the other scripts: make .venv with the project installed (once per pyproject change).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PYTHON:-python3}
extras=${1:-}
stamp=".venv/.huizong-installed${extras:+-$extras}"
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "安装依赖 / installing dependencies…" >&2
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >&2
  if [ -n "$extras" ]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[$extras]" >&2
  else
    .venv/bin/python -m pip install -q --disable-pip-version-check -e . >&2
  fi
  echo "$want" > "$stamp"
fi
export PATH="$PWD/.venv/bin:$PATH"
