"""Benchmark of ``CSLSDictionaryBuilder``: time, peak memory, rows re-scored, and VecMap and MUSE.

(a) 20,000 x 20,000 synthetic 300-d rows, ``max_rank=None``, in one run (median of
    ``--repeats``): the blockwise builder; a naive dense NumPy implementation that holds the
    full n x n float32 score matrix; VecMap's CSLS dictionary induction (both directions,
    ``--csls 10 --direction union``, its mutual pairs compared); MUSE's ``build_dictionary``
    (``csls_knn_10``, ``S2T&T2S``). The two peers are the transcriptions in
    ``benchmarks/peers.py`` and get unit-length rows prepared outside their timing; the
    builder's time includes its own normalisation. It prints the share of source rows the
    exact builder had to re-score beyond its kept candidates (goal of issue 12: under 15%)
    and the ratio of each peer's time to the builder's (goal: at least 1.8x for VecMap).
(b) 200,000 x 200,000 rows (``--quick``: 50,000), with ``max_rank=10000`` and with
    ``max_rank=None`` (``--skip-full`` leaves the latter out; it takes several minutes).

Every variant runs in a fresh Python subprocess, so the peak resident set size
(``ru_maxrss``) reported is that variant's own. "baseline" is the peak RSS once the
interpreter, NumPy and the input arrays are loaded, before the timed work; "peak" is the
peak over the whole run. Prints a markdown table.

Usage::

    python benchmarks/dictionary.py                 # everything (several minutes)
    python benchmarks/dictionary.py --quick         # (b) on 50,000 rows
    python benchmarks/dictionary.py --part a        # only (a)
    python benchmarks/dictionary.py --part a --data synthetic   # (a) without the real data
"""

import argparse
import json
import logging
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("L1ALIGN_SHARED_DATA", REPO.parent / "shared" / "data"))
DIM = 300
CSLS_K = 10


def _peak_rss_bytes():
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kilobytes, macOS bytes.
    return rss if platform.system() == "Darwin" else rss * 1024


def _synthetic(n, seed):
    """Two related float32 spaces: Y is X under a little noise, so dictionaries are non-trivial."""
    import numpy as np

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, DIM), dtype=np.float32)
    Y = X + 3 * rng.standard_normal((n, DIM), dtype=np.float32)
    return X, Y


def _real_fr_ru(n):
    """The first ``n`` rows of fr (mapped by ℓ2 Procrustes on the train split) and ru, float32.

    The real spaces have hubs and anti-hubs, so ``r_S`` spreads widely: this is where the
    exact builder's re-scoring pass matters (issue 12 measured 56% of the rows there).
    """
    import numpy as np

    from sklearn_l1align import ProcrustesAligner, normalize_embeddings
    from sklearn_l1align.io import read_dictionary, read_word2vec

    sw, sx = read_word2vec(DATA / "fr.vec.gz")
    tw, tx = read_word2vec(DATA / "ru.vec.gz")
    si = {w: i for i, w in enumerate(sw)}
    ti = {w: i for i, w in enumerate(tw)}
    train = np.array([(si[a], ti[b]) for a, b in read_dictionary(DATA / "fr-ru.train.txt")
                      if a in si and b in ti])
    X, Y = normalize_embeddings(sx), normalize_embeddings(tx)
    mapped = ProcrustesAligner().fit(X, Y, pairs=train).transform(X)
    return (np.ascontiguousarray(mapped[:n], dtype=np.float32),
            np.ascontiguousarray(Y[:n], dtype=np.float32))


def _naive_dense(X, Y, k):
    """Mutual CSLS-k dictionary with the full n_src x n_tgt float32 score matrix in memory."""
    import numpy as np

    Xs = X / np.linalg.norm(X, axis=1, keepdims=True)
    Yt = Y / np.linalg.norm(Y, axis=1, keepdims=True)
    S = Xs @ Yt.T
    n_src, n_tgt = S.shape
    r_T = np.partition(S, n_tgt - k, axis=1)[:, n_tgt - k:].mean(axis=1)
    r_S = np.partition(S, n_src - k, axis=0)[n_src - k:].mean(axis=0)
    S *= 2
    S -= r_T[:, None]
    S -= r_S[None, :]
    s2t = S.argmax(axis=1)
    t2s = S.argmax(axis=0)
    keep = t2s[s2t] == np.arange(n_src)
    return np.column_stack([np.flatnonzero(keep), s2t[keep]])


class _RescoredRecorder(logging.Handler):
    """Keeps the builder's DEBUG line "CSLS S2T: %d of %d rows rescored (...)"."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.rows = []

    def emit(self, record):
        if "rows rescored" in record.msg:
            self.rows.append(record.args[:3])


def _worker(spec):
    """Run one variant in this (fresh) process and return its measurements."""
    sys.path.insert(0, str(REPO))
    sys.path.insert(0, str(REPO / "benchmarks"))
    import numpy as np
    import peers

    from sklearn_l1align import CSLSDictionaryBuilder

    X, Y = _real_fr_ru(spec["n"]) if spec.get("data") == "fr-ru" else _synthetic(spec["n"], spec["seed"])
    recorder = _RescoredRecorder()
    if spec["impl"] == "builder":
        builder = CSLSDictionaryBuilder(method="csls", k=CSLS_K, direction="mutual",
                                        max_rank=spec["max_rank"], batch_size=spec["batch_size"])
        neighbours = logging.getLogger("sklearn_l1align._neighbors")
        neighbours.setLevel(logging.DEBUG)
        neighbours.addHandler(recorder)
        run = lambda: builder.build(X, Y)
    elif spec["impl"] in ("vecmap", "muse"):
        Xu, Yu = peers.vecmap_length_normalize(X), peers.vecmap_length_normalize(Y)
        if spec["impl"] == "vecmap":
            run = lambda: np.array(sorted(peers.mutual_of(*peers.vecmap_dictionary(Xu, Yu, CSLS_K))),
                                   dtype=np.int64).reshape(-1, 2)
        else:
            run = lambda: peers.muse_build_dictionary(Xu, Yu, CSLS_K)
    else:
        run = lambda: _naive_dense(X, Y, CSLS_K)
    baseline = _peak_rss_bytes()
    times, pairs = [], None
    for _ in range(spec["repeats"]):
        t0 = time.perf_counter()
        pairs = run()
        times.append(time.perf_counter() - t0)
    pairs = np.asarray(pairs, dtype=np.int64)
    out_dir = spec.get("pairs_out")
    if out_dir:
        np.save(out_dir, pairs)
    rescored = recorder.rows[-1] if recorder.rows else None
    return {"times": times, "baseline_rss": baseline, "peak_rss": _peak_rss_bytes(),
            "n_pairs": len(pairs),
            "rescored": None if rescored is None else [int(v) for v in rescored]}


def _run_variant(spec):
    """Run ``spec`` in a fresh interpreter and return its JSON result."""
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(spec)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"variant {spec} failed with exit status {proc.returncode}:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _gib(nbytes):
    return f"{nbytes / 2**30:.2f} GiB"


def _blas_info():
    try:
        from threadpoolctl import threadpool_info

        info = [f"{p['internal_api']} x{p['num_threads']}"
                for p in threadpool_info() if p["user_api"] == "blas"]
        return ", ".join(info) or "unknown"
    except ImportError:
        return "unknown (threadpoolctl not installed)"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("a", "b", "all"), default="all", help="which part to run")
    parser.add_argument("--quick", action="store_true", help="(b) on 50,000 rows instead of 200,000")
    parser.add_argument("--skip-full", action="store_true", help="(b) without the max_rank=None case")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats per variant in (a)")
    parser.add_argument("--n-small", type=int, default=20_000, help="rows per space in (a)")
    parser.add_argument("--batch-size", type=int, default=512, help="the builder's batch_size")
    parser.add_argument("--skip-peers", action="store_true", help="(a) without VecMap and MUSE")
    parser.add_argument("--data", choices=("auto", "fr-ru", "synthetic"), default="auto",
                        help="(a) on the real fr/ru spaces (auto: when ../shared/data has them)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        print(json.dumps(_worker(json.loads(args.worker))))
        return 0

    sys.path.insert(0, str(REPO))
    import numpy as np

    print(f"Python {platform.python_version()}, NumPy {np.__version__}, {os.cpu_count()} CPUs, "
          f"BLAS: {_blas_info()}; CSLS-{CSLS_K}, mutual, {DIM}-d float32, batch_size={args.batch_size}\n")
    rows = []
    header = ("| part | variant | rows (src x tgt) | max_rank | repeats | median s | "
              "peak RSS | baseline RSS | pairs |")
    sep = "|---|---|---|---|---|---|---|---|---|"

    if args.part in ("a", "all"):
        n = args.n_small
        data = args.data
        if data == "auto":
            data = "fr-ru" if (DATA / "fr.vec.gz").is_file() and (DATA / "ru.vec.gz").is_file() else "synthetic"
        print(f"(a) data: {data}" + (f" from {DATA} (ℓ2-aligned on fr-ru.train.txt)" if data == "fr-ru" else
                                     " (Y = X + 3 N(0, 1))") + "\n")
        tmp = Path(os.environ.get("TMPDIR", "/tmp"))
        results = {}
        impls = ("builder", "naive") if args.skip_peers else ("builder", "naive", "vecmap", "muse")
        for impl in impls:
            spec = {"impl": impl, "n": n, "seed": 0, "max_rank": None, "batch_size": args.batch_size,
                    "data": data,
                    "repeats": args.repeats, "pairs_out": str(tmp / f"bench_dict_{os.getpid()}_{impl}.npy")}
            results[impl] = _run_variant(spec)
            results[impl]["pairs"] = np.load(spec["pairs_out"])
            os.unlink(spec["pairs_out"])
        labels = {"builder": "CSLSDictionaryBuilder (blocks)",
                  "naive": "naive dense NumPy (n x n matrix)",
                  "vecmap": "VecMap CSLS induction (transcription)",
                  "muse": "MUSE build_dictionary (transcription)"}
        for impl in impls:
            label, r = labels[impl], results[impl]
            rows.append(f"| a | {label} | {n:,} x {n:,} | None | {len(r['times'])} | "
                        f"{statistics.median(r['times']):.2f} | {_gib(r['peak_rss'])} | "
                        f"{_gib(r['baseline_rss'])} | {r['n_pairs']:,} |")
        b, nv = results["builder"], results["naive"]
        same = {tuple(p) for p in b["pairs"].tolist()} & {tuple(p) for p in nv["pairs"].tolist()}
        ratio = statistics.median(b["times"]) / statistics.median(nv["times"])
        extra_b = b["peak_rss"] - b["baseline_rss"]
        extra_n = nv["peak_rss"] - nv["baseline_rss"]
        t_b, t_n = statistics.median(b["times"]), statistics.median(nv["times"])
        summary_a = (f"(a) builder / naive time ratio: {ratio:.2f} (median {t_b:.2f} s vs {t_n:.2f} s); "
                     "memory above baseline: "
                     f"{_gib(extra_b)} vs {_gib(extra_n)}; pairs in common: {len(same):,} of "
                     f"{b['n_pairs']:,} / {nv['n_pairs']:,}.")
        if b["rescored"] is not None:
            n_rows, n_src, entries = b["rescored"]
            summary_a += (f"\n(a) rows re-scored by the exact builder: {n_rows:,} of {n_src:,} "
                          f"({100 * n_rows / n_src:.2f}%; goal < 15%), {entries:,} target scores "
                          f"({100 * entries / (n_src * n):.3f}% of the n x n matrix).")
        b_pairs = {tuple(p) for p in b["pairs"].tolist()}
        for impl in impls[2:]:
            r = results[impl]
            t_p = statistics.median(r["times"])
            common = len(b_pairs & {tuple(p) for p in r["pairs"].tolist()})
            summary_a += (f"\n(a) {labels[impl]} / builder time ratio: {t_p / t_b:.2f}x "
                          f"({t_p:.2f} s vs {t_b:.2f} s); pairs in common {common:,} of "
                          f"{b['n_pairs']:,} / {r['n_pairs']:,}.")
    else:
        summary_a = None

    if args.part in ("b", "all"):
        n = 50_000 if args.quick else 200_000
        ranks = [10_000] if args.skip_full else [10_000, None]
        for max_rank in ranks:
            spec = {"impl": "builder", "n": n, "seed": 1, "max_rank": max_rank,
                    "batch_size": args.batch_size, "repeats": 1}
            r = _run_variant(spec)
            rows.append(f"| b | CSLSDictionaryBuilder (blocks) | {n:,} x {n:,} | {max_rank} | 1 | "
                        f"{r['times'][0]:.2f} | {_gib(r['peak_rss'])} | {_gib(r['baseline_rss'])} | "
                        f"{r['n_pairs']:,} |")

    print(header)
    print(sep)
    print("\n".join(rows))
    if summary_a:
        print()
        print(summary_a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
