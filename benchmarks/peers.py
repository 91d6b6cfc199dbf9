"""This package against VecMap's and MUSE's own code, step by step, in one run: time and ratio per step.

Steps, on two synthetic float32 spaces of ``--rows`` × ``--dim`` (the target is the source
plus noise, so the dictionaries are non-trivial):

==============  ===========================================  =========================================
step            this package                                 peer (transcription, numpy, CPU)
==============  ===========================================  =========================================
normalise       ``normalize_embeddings`` (unit, center,      VecMap ``embeddings.normalize`` with
                unit) of both spaces                         ``--normalize unit center unit``
l2 fit          ``ProcrustesAligner().fit_transform(X, Y,    VecMap ``--orthogonal``: SVD of
                pairs=pairs)`` (what a Pipeline calls)       ``Z[trg]ᵀ X[src]``, ``W = VᵀUᵀ``, ``XW``
                                                             into its buffer, ``Z`` copied into its
                                                             (both allocated once, as VecMap does)
dictionary      ``CSLSDictionaryBuilder`` (CSLS-10,          VecMap's CSLS induction, both directions
                ``max_rank=None``, mutual)                   (``--csls 10 --direction union``);
                                                             MUSE ``build_dictionary`` with
                                                             ``csls_knn_10``, ``S2T&T2S``,
                                                             ``dico_max_rank=0``
==============  ===========================================  =========================================

The transcriptions below follow VecMap's ``embeddings.py`` / ``map_embeddings.py`` (numpy
path, default ``--batch_size 10000``, ``--precision float32``) and MUSE's
``src/dico_builder.py`` / ``src/utils.py`` (the torch path without faiss: blocks of 128 for
the scores and 1,024 for the neighbourhoods, ``topk`` sorted), written with NumPy in
place of torch, line for line. They are used by ``benchmarks/dictionary.py`` too. Every
step is timed in this process: the median of ``--fast-repeats`` calls made in turn with the
peers' (normalisation, ℓ2), each after a pause at rest, or of ``--repeats`` (the dictionary). The ratio is peer time /
ours (above 1: this package is faster). The dictionaries are compared pair by pair.

Usage::

    python benchmarks/peers.py                      # 20,000 × 300 (a few minutes on 2 cores)
    python benchmarks/peers.py --rows 2000 --dim 64 --repeats 1   # a quick check
"""

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CSLS_K = 10
VECMAP_BATCH_SIZE = 10_000  # map_embeddings.py --batch_size default
MUSE_SCORE_BATCH = 128  # dico_builder.get_candidates: bs = 128
MUSE_KNN_BATCH = 1024  # utils.get_nn_avg_dist: bs = 1024


# --------------------------------------------------------------------------- VecMap
def vecmap_length_normalize(matrix):
    """VecMap ``embeddings.length_normalize``."""
    norms = np.sqrt(np.sum(matrix**2, axis=1))
    norms[norms == 0] = 1
    return matrix / norms[:, np.newaxis]


def vecmap_mean_center(matrix):
    """VecMap ``embeddings.mean_center``."""
    avg = np.mean(matrix, axis=0)
    return matrix - avg


def vecmap_normalize(matrix, actions):
    """VecMap ``embeddings.normalize`` (the ``unit`` and ``center`` actions)."""
    for action in actions:
        if action == "unit":
            matrix = vecmap_length_normalize(matrix)
        elif action == "center":
            matrix = vecmap_mean_center(matrix)
    return matrix


def vecmap_topk_mean(m, k, inplace=False):
    """VecMap ``map_embeddings.topk_mean``: k rounds of row argmax, each masked out."""
    n = m.shape[0]
    ans = np.zeros(n, dtype=m.dtype)
    if k <= 0:
        return ans
    if not inplace:
        m = np.array(m)
    ind0 = np.arange(n)
    ind1 = np.empty(n, dtype=int)
    minimum = m.min()
    for _ in range(k):
        m.argmax(axis=1, out=ind1)
        ans += m[ind0, ind1]
        m[ind0, ind1] = minimum
    return ans / k


def vecmap_orthogonal(x, z, src_indices, trg_indices, xw=None, zw=None):
    """VecMap ``--orthogonal``: the mapping step and the mapped spaces.

    As in ``map_embeddings.py``'s training loop: ``xw`` and ``zw`` are allocated once,
    before the loop ("Allocate memory"), and every step writes the mapped source into
    ``xw`` and copies the target into ``zw``. Pass the buffers to time the step as VecMap
    runs it; without them they are allocated here.
    """
    xw = np.empty_like(x) if xw is None else xw
    zw = np.empty_like(z) if zw is None else zw
    u, s, vt = np.linalg.svd(z[trg_indices].T.dot(x[src_indices]))  # noqa: RUF059 (as VecMap)
    w = vt.T.dot(u.T)
    x.dot(w, out=xw)
    zw[:] = z
    return xw, zw


def vecmap_dictionary(xw, zw, csls_neighborhood=CSLS_K, batch_size=VECMAP_BATCH_SIZE):
    """VecMap's dictionary induction with ``--direction union --csls 10`` (keep_prob = 1).

    Returns the forward pairs (each source's target) and the backward pairs (each
    target's source), as (source, target) arrays.
    """
    dtype = xw.dtype
    src_size, trg_size = xw.shape[0], zw.shape[0]
    simfwd = np.empty((min(batch_size, src_size), trg_size), dtype=dtype)
    simbwd = np.empty((min(batch_size, trg_size), src_size), dtype=dtype)
    knn_sim_fwd = np.zeros(src_size, dtype=dtype)
    knn_sim_bwd = np.zeros(trg_size, dtype=dtype)
    best_sim_forward = np.full(src_size, -100, dtype=dtype)
    best_sim_backward = np.full(trg_size, -100, dtype=dtype)
    trg_indices_forward = np.zeros(src_size, dtype=int)
    src_indices_backward = np.zeros(trg_size, dtype=int)
    # forward
    for i in range(0, trg_size, simbwd.shape[0]):
        j = min(i + simbwd.shape[0], trg_size)
        zw[i:j].dot(xw[:src_size].T, out=simbwd[:j - i])
        knn_sim_bwd[i:j] = vecmap_topk_mean(simbwd[:j - i], k=csls_neighborhood, inplace=True)
    for i in range(0, src_size, simfwd.shape[0]):
        j = min(i + simfwd.shape[0], src_size)
        xw[i:j].dot(zw[:trg_size].T, out=simfwd[:j - i])
        simfwd[:j - i].max(axis=1, out=best_sim_forward[i:j])
        simfwd[:j - i] -= knn_sim_bwd / 2  # Equivalent to the real CSLS scores for NN
        simfwd[:j - i].argmax(axis=1, out=trg_indices_forward[i:j])  # dropout(p=0) is identity
    # backward
    for i in range(0, src_size, simfwd.shape[0]):
        j = min(i + simfwd.shape[0], src_size)
        xw[i:j].dot(zw[:trg_size].T, out=simfwd[:j - i])
        knn_sim_fwd[i:j] = vecmap_topk_mean(simfwd[:j - i], k=csls_neighborhood, inplace=True)
    for i in range(0, trg_size, simbwd.shape[0]):
        j = min(i + simbwd.shape[0], trg_size)
        zw[i:j].dot(xw[:src_size].T, out=simbwd[:j - i])
        simbwd[:j - i].max(axis=1, out=best_sim_backward[i:j])
        simbwd[:j - i] -= knn_sim_fwd / 2
        simbwd[:j - i].argmax(axis=1, out=src_indices_backward[i:j])
    forward = np.column_stack([np.arange(src_size), trg_indices_forward])
    backward = np.column_stack([src_indices_backward, np.arange(trg_size)])
    return forward, backward


# --------------------------------------------------------------------------- MUSE
def _torch_topk(scores, k):
    """``torch.topk(k, dim=1, largest=True, sorted=True)`` in NumPy: values and indices."""
    idx = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(scores, idx, axis=1)
    order = np.argsort(-vals, axis=1)
    return np.take_along_axis(vals, order, axis=1), np.take_along_axis(idx, order, axis=1)


def muse_get_nn_avg_dist(emb, query, knn):
    """MUSE ``utils.get_nn_avg_dist`` without faiss (blocks of 1,024 queries)."""
    bs = MUSE_KNN_BATCH
    all_distances = []
    emb = np.ascontiguousarray(emb.T)
    for i in range(0, query.shape[0], bs):
        distances = query[i:i + bs] @ emb
        best_distances, _ = _torch_topk(distances, knn)
        all_distances.append(best_distances.mean(1))
    return np.concatenate(all_distances)


def muse_get_candidates(emb1, emb2, knn=CSLS_K):
    """MUSE ``dico_builder.get_candidates`` with ``dico_method='csls_knn_10'``, no rank or size cut."""
    bs = MUSE_SCORE_BATCH
    all_scores, all_targets = [], []
    n_src = emb1.shape[0]
    average_dist1 = muse_get_nn_avg_dist(emb2, emb1, knn).astype(emb1.dtype)
    average_dist2 = muse_get_nn_avg_dist(emb1, emb2, knn).astype(emb2.dtype)
    for i in range(0, n_src, bs):
        scores = (emb2 @ emb1[i:min(n_src, i + bs)].T).T
        scores *= 2
        scores -= average_dist1[i:min(n_src, i + bs)][:, None] + average_dist2[None, :]
        best_scores, best_targets = _torch_topk(scores, 2)
        all_scores.append(best_scores)
        all_targets.append(best_targets)
    all_scores = np.concatenate(all_scores, 0)
    all_targets = np.concatenate(all_targets, 0)
    all_pairs = np.column_stack([np.arange(all_targets.shape[0]), all_targets[:, 0]])
    # sort pairs by score confidence
    diff = all_scores[:, 0] - all_scores[:, 1]
    reordered = np.argsort(-diff, kind="stable")
    return all_pairs[reordered]


def muse_build_dictionary(src_emb, tgt_emb, knn=CSLS_K):
    """MUSE ``dico_builder.build_dictionary`` with ``dico_build='S2T&T2S'``."""
    s2t_candidates = muse_get_candidates(src_emb, tgt_emb, knn)
    t2s_candidates = muse_get_candidates(tgt_emb, src_emb, knn)[:, ::-1]
    s2t = {(a, b) for a, b in s2t_candidates.tolist()}
    t2s = {(a, b) for a, b in t2s_candidates.tolist()}
    final_pairs = s2t & t2s
    return np.array(sorted(final_pairs), dtype=np.int64).reshape(-1, 2)


def muse_normalize(emb):
    """MUSE ``--normalize_embeddings renorm,center,renorm`` (``utils.normalize_embeddings``)."""
    for t in ("renorm", "center", "renorm"):
        if t == "center":
            emb -= emb.mean(0, keepdims=True)
        else:
            emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    return emb


# --------------------------------------------------------------------------- runs
def synthetic(n, dim, seed=0):
    """Two float32 spaces: Y is X plus noise (cosine of a true pair about 0.3)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, dim), dtype=np.float32)
    Y = X + 3 * rng.standard_normal((n, dim), dtype=np.float32)
    return X, Y


def timed(fn, repeats):
    """Median seconds of ``repeats`` calls of ``fn()`` and the last result."""
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


#: Seconds at rest before each call of :func:`timed_alternating`.
REST_SECONDS = 0.3


def timed_alternating(fns, repeats):
    """Median seconds and last result of each of ``fns``, called in turn ``repeats`` times.

    Interleaving the calls (ours, peer, ours, peer, ...) gives every function the same
    machine conditions, so their ratio is steadier than that of two separate runs. Each
    call starts after :data:`REST_SECONDS` at rest: after a call at OpenBLAS's own threads
    its idle workers spin on the cores for a while, so without the pause each call would
    pay for the one before it (our single-thread GEMMs on Python threads, 14–17 ms at
    20,000 rows, after VecMap's threaded step; ``benchmarks/transform.py``'s second table).
    """
    times = [[] for _ in fns]
    results = [None] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            time.sleep(REST_SECONDS)
            t0 = time.perf_counter()
            results[i] = fn()
            times[i].append(time.perf_counter() - t0)
    return [(statistics.median(t), r) for t, r in zip(times, results)]


def mutual_of(forward, backward):
    """The mutual pairs (S2T ∩ T2S) of two (source, target) pair lists."""
    return {tuple(p) for p in forward.tolist()} & {tuple(p) for p in backward.tolist()}


def blas_info():
    from threadpoolctl import threadpool_info

    info = [f"{p['internal_api']} x{p['num_threads']}" for p in threadpool_info()
            if p["user_api"] == "blas"]
    return ", ".join(info) or "unknown"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000, help="rows per space")
    parser.add_argument("--dim", type=int, default=300, help="embedding dimension")
    parser.add_argument("--seed-pairs", type=int, default=5_000, help="pairs for the ℓ2 fit")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed repeats of the dictionary step (median)")
    parser.add_argument("--fast-repeats", type=int, default=25,
                        help="timed repeats of the sub-second steps, ours and the peers' in turn")
    parser.add_argument("--vecmap-batch-size", type=int, default=VECMAP_BATCH_SIZE)
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO))
    import sklearn

    from sklearn_l1align import (
        CSLSDictionaryBuilder,
        ProcrustesAligner,
        normalize_embeddings,
    )

    X, Y = synthetic(args.rows, args.dim)
    # First calls pay for imports and caches: run every step once on a small slice, untimed.
    w = min(300, args.rows)
    Xw, Yw = normalize_embeddings(X[:w]), normalize_embeddings(Y[:w])
    vecmap_normalize(X[:w], ["unit", "center", "unit"])
    wp = np.column_stack([np.arange(w // 2)] * 2)
    ProcrustesAligner().fit_transform(Xw, Yw, pairs=wp)
    vecmap_orthogonal(Xw, Yw, wp[:, 0], wp[:, 1])
    CSLSDictionaryBuilder(max_rank=None, direction="union").build(Xw, Yw)
    vecmap_dictionary(Xw, Yw)
    muse_build_dictionary(Xw, Yw)
    print(f"Python {platform.python_version()}, NumPy {np.__version__}, {os.cpu_count()} CPUs, "
          f"BLAS: {blas_info()}; {args.rows:,} x {args.dim} float32 per space, "
          f"median of {args.fast_repeats} (normalise, ℓ2, in turn) and {args.repeats} (dictionary)\n")
    rows = []

    # normalise
    (t_ours, Xn), (t_vm, Xv), (t_muse, Xm) = timed_alternating(
        [lambda: normalize_embeddings(X), lambda: vecmap_normalize(X, ["unit", "center", "unit"]),
         lambda: muse_normalize(X.copy())], args.fast_repeats)
    agree = float(np.abs(Xn - Xv).max())
    rows.append(("normalise (unit, center, unit)", t_ours, "VecMap", t_vm, f"max |Δ| {agree:.1e}"))
    rows.append(("", t_ours, "MUSE", t_muse, f"max |Δ| {float(np.abs(Xn - Xm).max()):.1e}"))
    Yn = normalize_embeddings(Y)

    # ℓ2 fit + transform
    n_seed = min(args.seed_pairs, args.rows)
    pairs = np.column_stack([np.arange(n_seed)] * 2)

    def ours_l2():
        return ProcrustesAligner().fit_transform(Xn, Yn, pairs=pairs)

    # The same with scikit-learn's finiteness checks off (the inputs are known finite): the
    # share of the time that input validation takes.
    def ours_l2_unchecked():
        with sklearn.config_context(assume_finite=True):
            return ProcrustesAligner().fit_transform(Xn, Yn, pairs=pairs)

    xw_buffer, zw_buffer = np.empty_like(Xn), np.empty_like(Yn)  # VecMap allocates these once
    (t_ours, mapped), (t_vm, (xw, _)), (t_unchecked, _) = timed_alternating(
        [ours_l2,
         lambda: vecmap_orthogonal(Xn, Yn, pairs[:, 0], pairs[:, 1], xw_buffer, zw_buffer),
         ours_l2_unchecked],
        args.fast_repeats)
    rows.append(("ℓ2 fit + transform (fit_transform)", t_ours, "VecMap", t_vm,
                 f"max |Δ| {float(np.abs(mapped - xw).max()):.1e}"))
    rows.append(("  the same, assume_finite=True", t_unchecked, "VecMap", t_vm, ""))

    # dictionary, on the mapped spaces
    Xd = np.ascontiguousarray(mapped, dtype=np.float32)
    Xu = vecmap_length_normalize(Xd)  # VecMap and MUSE take unit rows here
    Yu = vecmap_length_normalize(Yn)
    builder = CSLSDictionaryBuilder(max_rank=None, k=CSLS_K, direction="mutual")
    t_ours, ours = timed(lambda: builder.build(Xd, Yn), args.repeats)
    t_vm, (fwd, bwd) = timed(lambda: vecmap_dictionary(Xu, Yu, batch_size=args.vecmap_batch_size),
                             args.repeats)
    t_muse, muse = timed(lambda: muse_build_dictionary(Xu, Yu), args.repeats)
    ours_set = {tuple(p) for p in ours.tolist()}
    vm_set = mutual_of(fwd, bwd)
    muse_set = {tuple(p) for p in muse.tolist()}
    rows.append(("CSLS-10 dictionary, mutual", t_ours, "VecMap", t_vm,
                 f"same pairs {len(ours_set & vm_set):,} of {len(ours_set):,} / {len(vm_set):,}"))
    rows.append(("", t_ours, "MUSE", t_muse,
                 f"same pairs {len(ours_set & muse_set):,} of {len(ours_set):,} / {len(muse_set):,}"))

    print("| step | ours s | peer | peer s | peer / ours | agreement |")
    print("|---|---|---|---|---|---|")
    for step, t_o, peer, t_p, note in rows:
        print(f"| {step} | {t_o:.3f} | {peer} | {t_p:.3f} | {t_p / t_o:.2f}x | {note} |")
    print("\nGoals (issue 12): normalisation and ℓ2 fit at least as fast as VecMap (ratio >= 1), "
          "the dictionary at least 1.8x faster than VecMap.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
