"""The fuller Python peer: the same work as sluice's, with the libraries a Python user would pick.

Beside what peer.py does (read, sha256, decode, paragraphs, one JSON line per paragraph and per
document, a datasketch MinHash LSH of each document), per paragraph it tags words with
jieba.posseg, reads money with JioNLP's extract_money (with its parser) and dates and times with
its extract_time (relative to the file's mtime), percents by regular expression, and takes
people, places and organizations from the posseg tags (nr, ns, nt) as jieba's docs suggest; per
document it ranks keywords with jieba.analyse.textrank (top 8); near-duplicates are looked up
and inserted at document and paragraph level (paragraphs of 50 characters or more), as sluice's
levels do.

Usage: python peer_full.py CORPUS_DIR OUTPUT_FILE
Prints one line: files, bytes, seconds.
"""

import hashlib
import json
import os
import re
import sys
import time

import jieba
import jieba.analyse
import jieba.posseg
import jionlp
from datasketch import MinHash, MinHashLSH

from peer import PERCENT, shingles

KINDS = {"nr": "person", "ns": "place", "nt": "organization"}


def minhash(text):
    m = MinHash(num_perm=128)
    m.update_batch([s.encode("utf-8") for s in shingles(text)])
    return m


def main():
    corpus, output = sys.argv[1], sys.argv[2]
    started = time.perf_counter()
    jieba.initialize()
    docs = MinHashLSH(threshold=0.8, num_perm=128)
    paras = MinHashLSH(threshold=0.8, num_perm=128)
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
            mtime = os.stat(path).st_mtime
            total += len(data)
            sha = hashlib.sha256(data).hexdigest()
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = data.decode("gb18030", errors="replace")
            paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
            for i, para in enumerate(paragraphs):
                tagged = jieba.posseg.lcut(para)
                entities = [{"text": w.word, "type": KINDS[w.flag]} for w in tagged
                            if w.flag in KINDS]
                figures = [{"text": m["text"], "value": m["detail"]["num"],
                            "unit": m["detail"]["case"]}
                           for m in jionlp.ner.extract_money(para, with_parsing=True)]
                figures += [{"text": m.group(0), "value": float(m.group(1)), "unit": "%"}
                            for m in PERCENT.finditer(para)]
                dates = [{"text": t["text"], "value": t["detail"]["time"]}
                         for t in jionlp.ner.extract_time(para, time_base=mtime,
                                                          with_parsing=True)]
                near = None
                if len(para) >= 50:
                    m = minhash(para)
                    near = paras.query(m)
                    paras.insert(f"{n}#{i}", m)
                out.write(json.dumps({"path": path, "sha256": sha, "index": i, "text": para,
                                      "tokens": [[w.word, w.flag] for w in tagged],
                                      "figures": figures, "dates": dates,
                                      "entities": entities, "near": near},
                                     ensure_ascii=False, default=str) + "\n")
            m = minhash(text)
            near = docs.query(m)
            docs.insert(str(n), m)
            keywords = jieba.analyse.textrank(text, topK=8)
            out.write(json.dumps({"path": path, "sha256": sha, "paragraphs": len(paragraphs),
                                  "keywords": keywords, "near": near},
                                 ensure_ascii=False) + "\n")
        out.flush()
        os.fsync(out.fileno())
    print(f"files={len(paths)} bytes={total} seconds={time.perf_counter() - started:.3f}")


if __name__ == "__main__":
    main()
