"""Solvers of the ℓ1 refinement, side by side on the same A and B.

One table per problem (fr→ru, ru→fr from ../shared/data, and a synthetic outlier problem).
Rows: the published VODE loop (transcription, see _published.py), this package's VODE path
(StiefelFlowSolver, paper settings), the Cayley integrator at the same horizon, the two
minimisers, and iterative ℓ1 (1–5 rounds, Cayley to t = 1e-2 per round). Columns: wall time,
time ratio to the published loop in the same run, ℓ1 loss change, orthogonality error,
right-hand-side evaluations (or iterations), CSLS-10 P@1 on the test split with an exact
McNemar p-value against the start, and "t to VODE loss": the wall time at which a solver's loss
first reached the published loop's final loss.

    python benchmarks/solvers.py                       # everything, VODE runs to its own stop
    python benchmarks/solvers.py --vode-budget 120     # cap each VODE run at 120 s
    python benchmarks/solvers.py --published-budget 300  # cap only the published loop
    python benchmarks/solvers.py --rows huber admm       # only some rows (no ratio column
                                                         # without the published row)
    python benchmarks/solvers.py --problems synthetic --base strong

The real problems start from the "strong" base (ℓ2 on the whole train split) or the paper's
base (ℓ2 on 1,000 seed words + 5 ℓ2 refinement loops, an ℓ2 fixed point), or both.
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _published import published_l1_refine  # noqa: E402

from sklearn_l1align import (  # noqa: E402
    ADMMSolver,
    CSLSDictionaryBuilder,
    HuberContinuationSolver,
    L1ProcrustesAligner,
    RiemannianSubgradientSolver,
    StiefelFlowSolver,
    procrustes_rotation,
)
from sklearn_l1align.metrics import bli_precision, mcnemar_test  # noqa: E402


def synthetic(n=2000, d=300, outliers=0.1, seed=0):
    """B = A R + noise with a fraction of gross outlier rows, A pre-rotated by the ℓ2 solution."""
    from scipy.stats import special_ortho_group

    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, d)) / np.sqrt(d)
    R = special_ortho_group.rvs(d, random_state=seed + 1)
    B = A @ R + 0.02 * rng.normal(size=(n, d)) / np.sqrt(d)
    bad = rng.choice(n, int(outliers * n), replace=False)
    B[bad] = rng.normal(size=(len(bad), d)) / np.sqrt(d)
    M2 = procrustes_rotation(A, B)
    return A @ M2, B, M2.T @ R


def time_to_reach(res_losses, res_walls, target):
    hit = np.flatnonzero(np.asarray(res_losses) <= target + 1e-9 * abs(target))
    return float(res_walls[hit[0]]) if hit.size else float("nan")


ROWS = ("published", "vode", "cayley", "subgradient", "huber", "admm", "iterative")


def run_problem(name, A, B, evaluate, vode_budget, iter_rounds, published_budget=None, rows_wanted=ROWS):
    d = A.shape[1]
    rows = []
    p0 = evaluate(np.eye(d)) if evaluate else None

    def add(label, M, loss0, loss, ortho, work, wall, losses=None, walls=None, stop=""):
        row = dict(label=label, wall=wall, dloss=loss - loss0, ortho=ortho, work=work, stop=stop,
                   losses=losses, walls=walls)
        if evaluate:
            r = evaluate(M)
            row["p1"] = r.precision[1]
            row["p"] = mcnemar_test(p0.hits[1], r.hits[1])
        rows.append(row)
        print(f"  done: {label} ({wall:.1f} s)", file=sys.stderr, flush=True)
        return row

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # budget stops are reported in the table instead
        target = None
        if "published" in rows_wanted:
            pub = published_l1_refine(A.astype(np.float32), B.astype(np.float32), np.eye(d),
                                      time_budget=published_budget)
            loss0 = float(pub["losses"][0])
            add("VODE, published loop", pub["H"], loss0, pub["loss"],
                float(np.max(np.abs(pub["H"].T @ pub["H"] - np.eye(d)))), f"{pub['n_rhs']} rhs",
                pub["wall"], stop=f"{pub['stop']} at t={pub['t']:.2e}")
            target = pub["loss"]
        solvers = [
            ("vode", "VODE, StiefelFlowSolver", StiefelFlowSolver(time_budget=vode_budget)),
            ("cayley", "Cayley h=5e-5, t<=5e-3", StiefelFlowSolver(integrator="cayley")),
            ("cayley", "Cayley h=5e-5, to t=5e-3 (no min_decrease)",
             StiefelFlowSolver(integrator="cayley", min_decrease=None)),
            ("subgradient", "RiemannianSubgradientSolver", RiemannianSubgradientSolver()),
            ("huber", "HuberContinuationSolver", HuberContinuationSolver()),
            ("admm", "ADMMSolver", ADMMSolver()),
        ]
        for key, label, solver in solvers:
            if key not in rows_wanted:
                continue
            res = solver.solve(A, B)
            unit = "iters" if "Solver" in label and "Stiefel" not in label else "rhs"
            add(label, res.rotation, res.initial_loss, res.loss, res.orthogonality_error,
                f"{res.n_rhs} {unit}", res.wall_time, res.loss_curve, res.wall_times,
                stop=f"{res.stop_reason.value} at t={res.t:.3g}")
    for row in rows:
        if row["losses"] is not None and target is not None:
            row["reach"] = time_to_reach(row["losses"], row["walls"], target)
    if iter_rounds and "iterative" in rows_wanted:
        for label, M, loss0, loss, wall, npairs in iter_rounds():
            add(label, M, loss0, loss, float(np.max(np.abs(M.T @ M - np.eye(d)))), f"{npairs} pairs", wall)

    base_wall = rows[0]["wall"] if target is not None else float("nan")
    print(f"\n### {name}: {A.shape[0]} pairs x {d} dims" + (f"; CSLS P@1 at start {p0.precision[1]:.4f}" if p0 else ""))
    print("\n| solver | wall s | ratio to published | t to VODE loss (s) | Δ ℓ1 loss | max abs(MᵀM − I) | work | stop |"
          + (" CSLS P@1 | McNemar p |" if evaluate else ""))
    print("|---|---|---|---|---|---|---|---|" + ("---|---|" if evaluate else ""))
    for r in rows:
        reach = r.get("reach", float("nan"))
        ratio = r["wall"] / base_wall
        line = (f"| {r['label']} | {r['wall']:.2f} | {'' if np.isnan(ratio) else f'{ratio:.4f}'} | "
                f"{'' if np.isnan(reach) else f'{reach:.2f}'} | {r['dloss']:.2f} | {r['ortho']:.1e} | "
                f"{r['work']} | {r['stop']} |")
        if evaluate:
            line += f" {r['p1']:.4f} | {r['p']:.3f} |"
        print(line)
    sys.stdout.flush()


def real_problem(src, tgt, base, rounds):
    from _realdata import load_pair, paper_base, strong_base

    X, Y, train, test = load_pair(src, tgt)
    Xb = (strong_base if base == "strong" else paper_base)(X, Y, train)
    pairs = CSLSDictionaryBuilder().build(Xb, Y)
    A, B = Xb[pairs[:, 0]], Y[pairs[:, 1]]

    def evaluate(M):
        return bli_precision(Xb @ M, Y, test, k=1)

    def iterative():
        aligner = L1ProcrustesAligner(
            solver=StiefelFlowSolver(integrator="cayley", max_time=1e-2), n_refinements=rounds - 1)
        t0 = time.perf_counter()
        aligner.fit(Xb, Y)
        wall = time.perf_counter() - t0
        out = []
        for i, res in enumerate(aligner.solver_results_):
            # Each round has its own dictionary, so its loss change is against its own start.
            out.append((f"iterative ℓ1, round {i + 1} (Cayley to t=1e-2)", res.rotation,
                        res.initial_loss, res.loss,
                        wall * (i + 1) / len(aligner.solver_results_), aligner.dictionary_sizes_[i]))
        return out

    return A, B, evaluate, iterative


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--problems", nargs="+", default=["fr-ru", "ru-fr", "synthetic"])
    ap.add_argument("--base", choices=["strong", "paper", "both"], default="strong")
    ap.add_argument("--vode-budget", type=float, default=None,
                    help="wall-clock cap (s) for each VODE run; default: run to its own stop")
    ap.add_argument("--published-budget", type=float, default=None,
                    help="wall-clock cap (s) for the published loop only; default: --vode-budget")
    ap.add_argument("--rounds", type=int, default=5, help="iterative ℓ1 rounds")
    ap.add_argument("--rows", nargs="+", choices=ROWS, default=list(ROWS),
                    help="which rows to run (default: all)")
    args = ap.parse_args()
    if args.published_budget is None:
        args.published_budget = args.vode_budget
    import threadpoolctl

    print(f"# benchmarks/solvers.py  (numpy {np.__version__}, BLAS threads: "
          f"{[i['num_threads'] for i in threadpoolctl.threadpool_info()]}, VODE budget: {args.vode_budget}, published loop budget: {args.published_budget})")
    for prob in args.problems:
        if prob == "synthetic":
            A, B, _ = synthetic()
            run_problem("synthetic 2,000 x 300, 10% outliers", A, B, None, args.vode_budget, None,
                        args.published_budget, args.rows)
            continue
        src, tgt = prob.split("-")
        for base in (["strong", "paper"] if args.base == "both" else [args.base]):
            A, B, evaluate, iterative = real_problem(src, tgt, base, args.rounds)
            run_problem(f"{src}→{tgt}, {base} base", A, B, evaluate, args.vode_budget, iterative,
                        args.published_budget, args.rows)


if __name__ == "__main__":
    main()
