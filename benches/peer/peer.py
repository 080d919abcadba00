"""The Python pipeline a user would write for sluice's job, for a side-by-side benchmark.

Same work, with the libraries a Python user would pick and used as their docs say:
  read the file, hashlib.sha256 of its bytes, decode (UTF-8, else GB18030), split paragraphs on
  blank lines, jieba.lcut (HMM on) of every paragraph, regular-expression money and percent
  extraction, a datasketch MinHash (128 permutations) of character 5-gram shingles of the document
  queried against and inserted into a MinHashLSH (threshold 0.8), and one JSON line per paragraph
  and per document written to an output file.

Usage: python peer.py CORPUS_DIR OUTPUT_FILE
Prints one line: files, bytes, seconds.
"""

import hashlib
import json
import os
import re
import sys
import time

import jieba
from datasketch import MinHash, MinHashLSH

NUM = r"[0-9０-９]+(?:[.,][0-9]+)*"
MONEY = re.compile(
    r"(超过|超|近|约|逾)?(" + NUM + r")(多|余)?(万亿|亿|万|千)?(元|美元|港元|欧元|日元|英镑)(以上|左右)?"
)
PERCENT = re.compile(r"(" + NUM + r")\s*[%％]")
SCALE = {"万亿": 10**12, "亿": 10**8, "万": 10**4, "千": 10**3, None: 1}
CURRENCY = {"元": "CNY", "美元": "USD", "港元": "HKD", "欧元": "EUR", "日元": "JPY", "英镑": "GBP"}


def figures(text):
    out = []
    for m in MONEY.finditer(text):
        number = float(m.group(2).replace(",", ""))
        out.append({"kind": "money", "text": m.group(0), "value": number * SCALE[m.group(4)],
                    "unit": CURRENCY[m.group(5)]})
    for m in PERCENT.finditer(text):
        out.append({"kind": "percent", "text": m.group(0), "value": float(m.group(1)), "unit": "%"})
    return out


def shingles(text, k=5):
    text = re.sub(r"\s+", "", text)
    return {text[i:i + k] for i in range(max(len(text) - k + 1, 1))}


def main():
    corpus, output = sys.argv[1], sys.argv[2]
    started = time.perf_counter()
    # Loading the dictionary is part of the work, as it is in `sluice ingest`'s wall time.
    jieba.initialize()
    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    paths = sorted(
        os.path.join(root, name)
        for root, _, names in os.walk(corpus)
        for name in names
        if not name.startswith(".")
    )
    total = 0
    with open(output, "w", encoding="utf-8") as out:
        for n, path in enumerate(paths):
            with open(path, "rb") as f:
                data = f.read()
            total += len(data)
            sha = hashlib.sha256(data).hexdigest()
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = data.decode("gb18030", errors="replace")
            paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
            for i, para in enumerate(paragraphs):
                out.write(json.dumps({"path": path, "sha256": sha, "index": i, "text": para,
                                      "tokens": jieba.lcut(para), "figures": figures(para)},
                                     ensure_ascii=False) + "\n")
            m = MinHash(num_perm=128)
            m.update_batch([s.encode("utf-8") for s in shingles(text)])
            near = lsh.query(m)
            lsh.insert(str(n), m)
            out.write(json.dumps({"path": path, "sha256": sha, "paragraphs": len(paragraphs),
                                  "near": near}, ensure_ascii=False) + "\n")
        out.flush()
        os.fsync(out.fileno())
    print(f"files={len(paths)} bytes={total} seconds={time.perf_counter() - started:.3f}")


if __name__ == "__main__":
    main()
