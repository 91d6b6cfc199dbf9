"""Shared loaders for the benchmarks: the real fr/ru data in ../shared/data, and the bases."""

import os
from pathlib import Path

import numpy as np

from sklearn_l1align import CSLSDictionaryBuilder, ProcrustesAligner, normalize_embeddings
from sklearn_l1align.io import read_dictionary, read_word2vec

DATA = Path(os.environ.get("L1ALIGN_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))
_CACHE = {}


def load_pair(src="fr", tgt="ru"):
    """Normalised (unit, center, unit) spaces and the train/test index pairs of ``src-tgt``."""
    key = (src, tgt)
    if key not in _CACHE:
        sw, sx = read_word2vec(DATA / f"{src}.vec.gz")
        tw, tx = read_word2vec(DATA / f"{tgt}.vec.gz")
        si = {w: i for i, w in enumerate(sw)}
        ti = {w: i for i, w in enumerate(tw)}

        def pairs(split):
            return np.array([(si[a], ti[b]) for a, b in read_dictionary(DATA / f"{src}-{tgt}.{split}.txt")])

        _CACHE[key] = (normalize_embeddings(sx.astype(np.float64)),
                       normalize_embeddings(tx.astype(np.float64)), pairs("train"), pairs("test"))
    return _CACHE[key]


def strong_base(X, Y, train):
    """ℓ2 Procrustes on the whole train split."""
    return ProcrustesAligner().fit(X, Y, pairs=train).transform(X)


def paper_base(X, Y, train, n_seed=1000, n_loops=5):
    """The paper's setting: ℓ2 on the first ``n_seed`` train source words, then ℓ2 refinement
    loops (mutual CSLS-10 dictionary, re-fit), so the base sits at an ℓ2 fixed point."""
    seed_words = np.unique(train[:, 0])[:n_seed]
    seed = train[np.isin(train[:, 0], seed_words)]
    l2 = ProcrustesAligner(dictionary=CSLSDictionaryBuilder(), n_refinements=n_loops)
    return l2.fit(X, Y, pairs=seed).transform(X)
