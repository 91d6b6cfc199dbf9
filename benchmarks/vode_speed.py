"""VODE path: this package's StiefelFlowSolver against a transcription of the published loop.

Same A, B, same VODE settings; both integrate the same number of output steps. Prints the
per-output-step time of each (median over repeats, in the same run), the ratio, and the
largest relative difference of their loss trajectories.

The published loop is timed twice: as published (both OpenBLAS pools, NumPy's and SciPy's,
at their default thread counts) and with every BLAS pool on one thread, the thread handling
that StiefelFlowSolver applies around its whole solve. The second column of ratios shows how
much of the speed-up is left once the published code is given the same thread fix.

    python benchmarks/vode_speed.py                 # synthetic 3,000 x 300 with outliers
    python benchmarks/vode_speed.py --real fr-ru    # the induced fr->ru dictionary
    python benchmarks/vode_speed.py --profile       # where a right-hand side's time goes
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _published import published_l1_refine

from sklearn_l1align import CSLSDictionaryBuilder, StiefelFlowSolver
from sklearn_l1align._threads import single_blas_thread


def synthetic(n=3000, d=300, outliers=0.1, seed=0):
    from scipy.stats import special_ortho_group

    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, d)) / np.sqrt(d)
    R = special_ortho_group.rvs(d, random_state=seed + 1)
    B = A @ R + 0.02 * rng.normal(size=(n, d)) / np.sqrt(d)
    bad = rng.choice(n, int(outliers * n), replace=False)
    B[bad] = rng.normal(size=(len(bad), d)) / np.sqrt(d)
    # Start near the answer, as the refinement does: pre-rotate A by the l2 solution.
    U, _, Vt = np.linalg.svd(A.T @ B)
    return A @ (U @ Vt), B


def real(pair):
    from _realdata import load_pair, strong_base

    src, tgt = pair.split("-")
    X, Y, train, _ = load_pair(src, tgt)
    Xb = strong_base(X, Y, train)
    pairs = CSLSDictionaryBuilder().build(Xb, Y)
    return Xb[pairs[:, 0]], Y[pairs[:, 1]]


def profile(A, B, steps):
    """ms per right-hand side, in total and in its parts, with and without the thread limit."""
    import contextlib

    from sklearn_l1align import _objective
    from sklearn_l1align._solvers import _flow as solvers

    spent = {}

    def timed(module, name):
        original = getattr(module, name)

        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - t0
        setattr(module, name, wrapper)
        return original

    saved = {(m, n): timed(m, n) for m, n in [(solvers, "smoothed_gradient"), (solvers, "tangent_projection"),
                                               (_objective, "residual"), (_objective, "smoothed_abs_derivative")]}
    limit = solvers.single_blas_thread
    print("\n| BLAS threads | ms / rhs | gradient (AM − B, sign work, Aᵀg) | of which AM − B | sign work "
          "| projection |\n|---|---|---|---|---|---|")
    try:
        for label, ctx in (("default threads", contextlib.nullcontext), ("1 thread (the package)", limit)):
            solvers.single_blas_thread = ctx
            spent.clear()
            t0 = time.perf_counter()
            res = StiefelFlowSolver(max_time=steps * 1e-6, min_decrease=None, ortho_tol=1.0).solve(
                A.astype(np.float32), B.astype(np.float32))
            total = time.perf_counter() - t0
            per = {k: 1e3 * v / res.n_rhs for k, v in spent.items()}
            print(f"| {label} | {1e3 * total / res.n_rhs:.1f} | {per['smoothed_gradient']:.1f} | "
                  f"{per['residual']:.1f} | {per['smoothed_abs_derivative']:.1f} | "
                  f"{per['tangent_projection']:.1f} |")
    finally:
        solvers.single_blas_thread = limit
        for (module, name), original in saved.items():
            setattr(module, name, original)
    A32 = A.astype(np.float32)
    M32 = np.eye(A.shape[1], dtype=np.float32)
    ts = []
    for _ in range(20):
        t0 = time.perf_counter()
        A32 @ M32
        A32.T @ A32
        ts.append(time.perf_counter() - t0)
    print(f"\nThe two float32 GEMMs alone, outside VODE: {1e3 * np.median(ts):.1f} ms (median of 20)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--real", default=None, help="fr-ru or ru-fr (needs ../shared/data)")
    ap.add_argument("--steps", type=int, default=15, help="output steps of 1e-6 per run")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="time the parts of a right-hand side instead")
    args = ap.parse_args()
    A, B = real(args.real) if args.real else synthetic()
    if args.profile:
        return profile(A, B, args.steps)
    n, d = A.shape
    horizon = args.steps * 1e-6
    variants = {"float64": [], "float32": []}
    rel = {k: [] for k in variants}
    nrhs = {}
    pub_t, pub1_t, rel_pub1 = [], [], []

    def published():
        t0 = time.perf_counter()
        out = published_l1_refine(A.astype(np.float32), B.astype(np.float32), np.eye(d),
                                  max_steps=args.steps, cov_imp=-np.inf, max_idd_err=np.inf)
        return out, (time.perf_counter() - t0) / max(out["n_steps"], 1)

    for _ in range(args.repeats):
        pub, t = published()
        pub_t.append(t)
        with single_blas_thread():
            pub1, t = published()
        pub1_t.append(t)
        # Equal bit for bit where the BLAS's threads keep the bits (not on AMD EPYC with
        # OpenBLAS's Haswell kernels): reported, not assumed.
        m = min(len(pub["losses"]), len(pub1["losses"]))
        rel_pub1.append(float(np.max(np.abs(pub["losses"][:m] - pub1["losses"][:m])
                                     / pub["losses"][:m])))
        for dt in variants:
            t0 = time.perf_counter()
            res = StiefelFlowSolver(max_time=horizon, min_decrease=None, ortho_tol=1.0,
                                    gemm_dtype=dt).solve(A.astype(np.float32), B.astype(np.float32))
            variants[dt].append((time.perf_counter() - t0) / max(res.n_steps, 1))
            m = min(len(pub["losses"]), len(res.loss_curve))
            rel[dt].append(float(np.max(np.abs(pub["losses"][:m] - res.loss_curve[:m]) / pub["losses"][:m])))
            nrhs[dt] = res.n_rhs
    name = args.real or f"synthetic {n}x{d}"
    print(f"\nVODE per output step (1e-6), {name}, {n} pairs, {args.steps} steps, median of {args.repeats}\n")
    print("| variant | s / step | rhs evals | speed-up vs published | vs published, all BLAS 1 thread "
          "| max rel. loss diff |")
    print("|---|---|---|---|---|---|")
    mp, mp1 = np.median(pub_t), np.median(pub1_t)
    print(f"| published transcription | {mp:.4f} | {pub['n_rhs']} | 1.00x | {mp1 / mp:.2f}x | 0 |")
    print(f"| published transcription, all BLAS 1 thread | {mp1:.4f} | {pub1['n_rhs']} | {mp / mp1:.2f}x "
          f"| 1.00x | {max(rel_pub1):.1e} |")
    for dt, ts in variants.items():
        mo = np.median(ts)
        print(f"| StiefelFlowSolver(gemm_dtype={dt!r}) | {mo:.4f} | {nrhs[dt]} | {mp / mo:.2f}x "
              f"| {mp1 / mo:.2f}x | {max(rel[dt]):.1e} |")

if __name__ == "__main__":
    main()
