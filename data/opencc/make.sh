#!/bin/sh
# Rebuilds ts-characters.txt (Traditional → Simplified, one character for one) from OpenCC's
# TSCharacters dictionary as the npm package opencc-js 1.4.2 ships it (OpenCC data: Apache-2.0,
# https://github.com/BYVoid/OpenCC; opencc-js: MIT). Run from this folder; needs npm and python3.
set -e
tmp=$(mktemp -d)
(cd "$tmp" && npm pack --silent opencc-js@1.4.2 >/dev/null && tar xzf opencc-js-1.4.2.tgz)
python3 - "$tmp/package/dist/esm-lib/dict/TSCharacters.js" > ts-characters.txt <<'PY'
import sys
text = open(sys.argv[1], encoding="utf-8").read()
body = text[text.index('"') + 1:text.rindex('"')]
print("# Traditional<TAB>Simplified, one character each: OpenCC TSCharacters (opencc-js 1.4.2),")
print("# the first Simplified candidate of each entry whose both sides are one character.")
for pair in body.split("|"):
    parts = pair.split(" ")
    t, s = parts[0], parts[1] if len(parts) > 1 else ""
    if len(t) == 1 and len(s) == 1 and t != s:
        print(f"{t}\t{s}")
PY
rm -rf "$tmp"
