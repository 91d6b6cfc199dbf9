"""Test helpers: small synthetic problems, brute-force references, and real-data readers.

The real-data readers prefer ``sklearn_l1align.io.read_word2vec`` and fall back to a
small local gzip parser, so these tests do not depend on the I/O module being finished.
"""

import gzip
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import special_ortho_group

#: ``../shared/data`` next to the repository (absent in a user's fresh clone).
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
REAL_FILES = ("fr.vec.gz", "ru.vec.gz", "fr-ru.train.txt", "fr-ru.test.txt",
              "ru-fr.train.txt", "ru-fr.test.txt")


def has_shared_data():
    """True when every real-data file is present in ``SHARED_DATA``."""
    return all((SHARED_DATA / name).is_file() for name in REAL_FILES)


#: Skips a test when the real data next to the repository is absent (a fresh clone).
requires_shared_data = pytest.mark.skipif(
    not has_shared_data(),
    reason=f"real evaluation data not found in {SHARED_DATA} (only present in the project workspace)",
)


# --------------------------------------------------------------------------- synthetic
def planted_problem(n=200, d=8, *, noise=0.0, seed=0):
    """Return ``X, Y, R`` with ``Y = X @ R + noise·N(0, 1)`` and ``R`` a random rotation."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    R = special_ortho_group.rvs(d, random_state=seed)
    Y = X @ R + noise * rng.normal(size=(n, d))
    return X, Y, R


def unit64(X):
    """Unit-length float64 rows (zero rows stay zero)."""
    X = np.asarray(X, dtype=np.float64)
    n = np.linalg.norm(X, axis=1, keepdims=True)
    n[n == 0] = 1.0
    return X / n


def topk_mean_rows(S, k):
    """Mean of the ``k`` largest entries of each row of dense ``S`` (all when k >= width)."""
    k = min(k, S.shape[1])
    return np.sort(S, axis=1)[:, S.shape[1] - k:].mean(axis=1)


def brute_force_scores(X_src, X_tgt, *, method="csls", k=10):
    """Dense float64 score matrix: cosine, or CSLS ``2cos − r_T[:, None] − r_S[None, :]``."""
    cos = unit64(X_src) @ unit64(X_tgt).T
    if method == "nn":
        return cos
    r_T = topk_mean_rows(cos, k)      # each source row over the targets
    r_S = topk_mean_rows(cos.T, k)    # each target row over the sources
    return 2 * cos - r_T[:, None] - r_S[None, :]


def brute_force_dictionary(X_src, X_tgt, *, method="csls", k=10, direction="mutual", max_rank=None):
    """Brute-force dense reference of ``CSLSDictionaryBuilder.build``."""
    if max_rank is not None:
        X_src, X_tgt = X_src[:max_rank], X_tgt[:max_rank]
    S = brute_force_scores(X_src, X_tgt, method=method, k=k)
    s2t = S.argmax(axis=1)
    t2s = S.argmax(axis=0)
    fwd = {(i, int(j)) for i, j in enumerate(s2t)}
    bwd = {(int(i), j) for j, i in enumerate(t2s)}
    chosen = {"s2t": fwd, "t2s": bwd, "mutual": fwd & bwd, "union": fwd | bwd}[direction]
    return np.array(sorted(chosen), dtype=np.int64).reshape(-1, 2)


def min_score_gap(X_src, X_tgt, *, method="csls", k=10):
    """Smallest gap between the best and second-best score of any row or column.

    A float32 implementation can only be expected to agree with the float64 reference
    on argmaxes when this gap is well above float32 rounding.
    """
    S = brute_force_scores(X_src, X_tgt, method=method, k=k)
    rows = np.sort(S, axis=1)
    cols = np.sort(S, axis=0)
    return min((rows[:, -1] - rows[:, -2]).min(), (cols[-1] - cols[-2]).min())


# --------------------------------------------------------------------------- real data
def _read_vec_gz_local(path):
    """Minimal word2vec text reader (optionally gzip): header ``count dim``, then ``word v1 ... vd``."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        count, dim = (int(v) for v in f.readline().split())
        words = []
        vectors = np.empty((count, dim), dtype=np.float32)
        for i, line in enumerate(f):
            parts = line.rstrip("\n").rstrip(" ").split(" ")
            words.append(parts[0])
            vectors[i] = np.asarray(parts[1:], dtype=np.float32)
    if len(words) != count:
        raise ValueError(f"{path}: header says {count} rows. Got {len(words)} instead.")
    return words, vectors


def read_vectors(path):
    """``(words, float32 vectors)`` of a word2vec text file, via the package reader when it imports."""
    try:
        from sklearn_l1align.io import read_word2vec
    except ImportError:
        return _read_vec_gz_local(path)
    words, vectors = read_word2vec(path)
    return list(words), np.asarray(vectors, dtype=np.float32)


def read_muse_pairs(path, src_words, tgt_words):
    """Index pairs of a MUSE ``source target`` dictionary; words map to rows by file position."""
    s_idx = {w: i for i, w in enumerate(src_words)}
    t_idx = {w: i for i, w in enumerate(tgt_words)}
    pairs = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 2:
                raise ValueError(f"{path}:{lineno}: expected 'source target'. Got {line!r} instead.")
            s, t = parts
            pairs.append((s_idx[s], t_idx[t]))
    return np.array(pairs, dtype=np.int64)
