#!/usr/bin/env bash
# Installs the Python peer's libraries into a virtual environment (default target/peer-venv).
# Prints the path of its python.
set -euo pipefail
venv="${1:-$(dirname "$0")/../../target/peer-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet jieba==0.42.1 datasketch==2.0.0 >&2
fi
echo "$venv/bin/python"
