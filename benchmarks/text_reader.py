"""The word2vec text reader: bulk parse (this package) against a line-by-line np.fromstring parse.

Writes a synthetic ``.vec`` file (or reads ``--file``), reads it with
``sklearn_l1align.io.read_word2vec`` and with a plain line-by-line reference parse, checks
that the arrays are identical, and prints a markdown table of median wall times and their
ratio. Run from the repository root::

    python benchmarks/text_reader.py                       # 50,000 x 300 synthetic rows
    python benchmarks/text_reader.py --rows 2000 --dim 50  # a quick check
    python benchmarks/text_reader.py --file ../shared/data/fr.vec.gz
"""

import argparse
import gzip
import os
import statistics
import tempfile
import time

import numpy as np

from sklearn_l1align.io import read_word2vec, write_word2vec


def per_line(path, dtype=np.float32):
    """The reference: one np.fromstring per row (what the reader did before)."""
    opener = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        count, dim = (int(x) for x in f.readline().split())
        words, vectors = [], np.empty((count, dim), dtype=dtype)
        for i, line in enumerate(f):
            word, _, rest = line.decode("utf-8").rstrip().partition(" ")
            words.append(word)
            vectors[i] = np.fromstring(rest, dtype=np.float64, sep=" ")
    return words, vectors


def _median_seconds(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--file", default=None, help="an existing .vec(.gz) file instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = args.file
        if path is None:
            path = os.path.join(folder, "synthetic.vec")
            rng = np.random.default_rng(0)
            write_word2vec(path, [f"w{i}" for i in range(args.rows)],
                           rng.standard_normal((args.rows, args.dim)).astype(np.float32))
        bulk_s, (words, vectors) = _median_seconds(lambda: read_word2vec(path), args.repeats)
        line_s, (ref_words, ref) = _median_seconds(lambda: per_line(path), args.repeats)
        identical = words == ref_words and np.array_equal(vectors, ref)
        print(f"file: {path if args.file else f'synthetic {args.rows} x {args.dim}'}, "
              f"{os.path.getsize(path) / 2**20:.1f} MiB, median of {args.repeats}")
        print()
        print("| parser | seconds | rows/s | ratio |")
        print("|---|---|---|---|")
        print(f"| line by line (np.fromstring per row) | {line_s:.3f} | {len(words) / line_s:,.0f} | 1.00 |")
        print(f"| read_word2vec (bulk) | {bulk_s:.3f} | {len(words) / bulk_s:,.0f} | "
              f"{line_s / bulk_s:.2f} |")
        print()
        print(f"identical arrays and words: {identical}")
        if not identical:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
