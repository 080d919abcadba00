#!/usr/bin/env bash
# Installs the Python peers' libraries into a virtual environment (default target/peer-venv).
# Prints the path of its python. A venv made before the fuller peer (without JioNLP) is topped up.
set -euo pipefail
venv="${1:-$(dirname "$0")/../../target/peer-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2
fi
if ! "$venv/bin/python" -c "import jieba, datasketch, jionlp" >/dev/null 2>&1; then
  "$venv/bin/pip" install --quiet jieba==0.42.1 datasketch==2.0.0 jionlp==1.5.31 >&2
fi
echo "$venv/bin/python"
