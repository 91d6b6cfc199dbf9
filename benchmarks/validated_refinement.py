"""Validated refinement against blind refinement, on the real fr↔ru data (issue 14).

For each language pair and base (the whole 5K train seed, and a 1K seed: the first 1,000
train source words), prints test-dictionary CSLS-10 and NN P@1 of

* ℓ2 alone (Procrustes on the seed);
* each default refinement chain applied blind from the ℓ2 base (no validation):
  ``l1_flow`` (one ℓ1 round, Cayley flow), ``paper`` (ℓ2 self-learning to its fixed
  point, then two ℓ1 rounds), ``l1_seed_union`` (one ℓ1 round on seed ∪ induced pairs);
* ``validated``: :func:`sklearn_l1align.model_selection.select_refinement` with its
  defaults plus the seed-union chain (20 % of the seed's words held out), refitted on the
  whole seed;

with McNemar's exact p against ℓ2 alone and the wall time. A second table gives each
step's held-out score inside ``select_refinement`` beside MUSE's unsupervised criterion
(mean cosine of the 10,000 most frequent source words to their CSLS translations), and
how often the two agree on the sign of the change from the base.

    python benchmarks/validated_refinement.py                 # fr-ru and ru-fr, 5K and 1K seeds
    python benchmarks/validated_refinement.py --pairs fr-ru --bases 1k
    python benchmarks/validated_refinement.py --tiny          # the packaged demo sample, seconds
    python benchmarks/validated_refinement.py --grid --pairs fr-ru   # GridSearchCV over refinements
    python benchmarks/validated_refinement.py --agreement      # do held-out seed words and the test agree?
    python benchmarks/validated_refinement.py --l2-precision   # the ℓ2 fit on float32 spaces against float64
    python benchmarks/validated_refinement.py --splits 5       # the validated default under 5 held-out splits
    python benchmarks/validated_refinement.py --splits 3 --folds 5   # the same, 5-fold validation
    python benchmarks/validated_refinement.py --splits 1 --bases 1k --validation-max-rank all 10000

``--grid`` instead runs scikit-learn's GridSearchCV (3 folds of whole seed words, scored by
full-vocabulary CSLS P@1 through ``VocabularyAligner``) over {no refinement, ℓ1 flow, ℓ1
minimiser} × dictionary k × solver horizon on the 5K seed, and prints each configuration's CV
score beside its test P@1 when fitted on the whole seed, and which configuration GridSearchCV's
arg-max and the ``prefer_baseline()`` refit rule choose.

``--agreement`` asks whether held-out seed words and the test dictionary agree about one
refinement (one ℓ1 Cayley-flow round, dictionary k=5, horizon 5e-3, from the ℓ2 base on the
seed): its per-word wins and losses against the base, with McNemar's p, on the test
dictionary (fitted on the whole 5K seed), and over the held-out folds of 5-fold
``SeedWordKFold`` cross-validation of the seed (every seed word scored once), for three fold
assignments.

``--l2-precision`` fits ℓ2 Procrustes on each seed with the spaces in float64 and in float32
(where ``AᵀB`` is formed in float32, as ``l1align``'s readers give it) and prints test P@1 of
both, McNemar's p between them, and the largest difference of the two maps.

``--splits N`` runs the validated default (``select_refinement`` with
``default_candidates()``, as ``l1align align`` does) under ``N`` held-out splits
(``random_state`` 0 … N−1) for each pair and base, and prints what each kept and its test
P@1 beside ℓ2 alone and the blind ℓ1 flow (the default before validation): does the choice
depend on which seed words happen to be held out? With ``--folds K`` each run
cross-validates the seed instead (``validation_folds=K``: every seed word is scored once).
With ``--validation-max-rank N …`` each run scores within the N most frequent words of each
space (``validation_max_rank=N``; ``all``, the default, is the whole vocabularies), a row per
value, with the median wall time of a ``select_refinement`` run.

Times are wall-clock on whatever machine runs it. P@1 depends on neither the load nor the
BLAS thread count: the spaces are mapped as ``transform`` maps them (``blocked_product``).
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sklearn_l1align import ProcrustesAligner, normalize_embeddings
from sklearn_l1align._threads import blocked_product
from sklearn_l1align.cli._parser import _max_rank  # the CLI's --validation-max-rank type
from sklearn_l1align.metrics import bli_precision, mcnemar_test
from sklearn_l1align.model_selection import (
    apply_chain,
    default_candidates,
    mean_csls_cosine,
    select_refinement,
)


def first_words(pairs, n):
    """The pairs of the first ``n`` distinct source words, in file order."""
    _, first = np.unique(pairs[:, 0], return_index=True)
    words = pairs[np.sort(first)[:n], 0]
    return pairs[np.isin(pairs[:, 0], words)]


def load(pair, tiny):
    if tiny:
        from sklearn_l1align.datasets import load_demo

        demo = load_demo()
        return (normalize_embeddings(demo.src_vectors.astype(np.float64)),
                normalize_embeddings(demo.tgt_vectors.astype(np.float64)),
                demo.train_pairs, demo.test_pairs)
    from _realdata import load_pair

    return load_pair(*pair.split("-"))


def evaluate(X, Y, test, M):
    Xm = blocked_product(X, M)  # as transform computes it: bits that follow no thread count
    return bli_precision(Xm, Y, test, k=1), bli_precision(Xm, Y, test, k=1, method="nn")


def grid(pairs, tiny):
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline

    from sklearn_l1align import (
        CSLSDictionaryBuilder,
        L1ProcrustesAligner,
        RiemannianSubgradientSolver,
        StiefelFlowSolver,
    )
    from sklearn_l1align.model_selection import (
        SeedWordKFold,
        Vocabularies,
        VocabularyAligner,
    )

    flow = L1ProcrustesAligner(dictionary=CSLSDictionaryBuilder(),
                               solver=StiefelFlowSolver(integrator="cayley"))
    minimiser = L1ProcrustesAligner(dictionary=CSLSDictionaryBuilder(),
                                    solver=RiemannianSubgradientSolver())
    param_grid = [
        {"estimator__l1": ["passthrough"]},
        {"estimator__l1": [flow], "estimator__l1__dictionary__k": [5, 10],
         "estimator__l1__solver__max_time": [2e-3, 5e-3]},
        {"estimator__l1": [minimiser], "estimator__l1__dictionary__k": [5, 10],
         "estimator__l1__solver__max_iter": [30, 100]},
    ]
    print("| pair | configuration | CV CSLS P@1 (mean ± std) | test CSLS P@1 | chosen |")
    print("|---|---|---|---|---|")
    for pair in pairs:
        X, Y, train, test = load(pair, tiny)
        model = VocabularyAligner(Pipeline([("l2", ProcrustesAligner()), ("l1", "passthrough")]),
                                  Vocabularies(X, Y))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            search = GridSearchCV(model, param_grid, cv=SeedWordKFold(3, random_state=0),
                                  refit=False).fit(train)
            res = search.cv_results_
            ruled = prefer_baseline()(res)
            for i, params in enumerate(res["params"]):
                p1 = clone(model).set_params(**params).fit(train).score(test)
                l1 = params["estimator__l1"]
                name = "no refinement" if l1 == "passthrough" else (
                    f"{type(l1.solver).__name__}, k={params['estimator__l1__dictionary__k']}, "
                    + ", ".join(f"{k.rsplit('__', 1)[1]}={v}" for k, v in params.items()
                                if k.startswith("estimator__l1__solver__")))
                print(f"| {pair} | {name} | {100 * res['mean_test_score'][i]:.2f} ± "
                      f"{100 * res['std_test_score'][i]:.2f} | {100 * p1:.2f} | "
                      f"{'arg-max' if i == search.best_index_ else ''}"
                      f"{' prefer_baseline' if i == ruled else ''} |", flush=True)


def held_out_agreement(pairs, tiny):
    from sklearn_l1align import CSLSDictionaryBuilder, L1ProcrustesAligner, StiefelFlowSolver
    from sklearn_l1align.model_selection import SeedWordKFold

    def fit_both(X, Y, seed):
        M0 = ProcrustesAligner(dictionary="paired").fit(X, Y, pairs=seed).rotation_
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            refine = L1ProcrustesAligner(
                dictionary=CSLSDictionaryBuilder(k=5),
                solver=StiefelFlowSolver(integrator="cayley", max_time=5e-3)
            ).fit(blocked_product(X, M0), Y)
        return M0, M0 @ refine.rotation_

    def hits(X, Y, M, pairs):
        return bli_precision(blocked_product(X, M), Y, pairs, k=1).hits[1]

    print("| pair | scored on | words | ℓ2 P@1 | refined P@1 | refined wins / losses | McNemar p |")
    print("|---|---|---|---|---|---|---|")

    def line(pair, where, base, refined):
        wins, losses = int((refined & ~base).sum()), int((base & ~refined).sum())
        print(f"| {pair} | {where} | {len(base)} | {100 * base.mean():.2f} | "
              f"{100 * refined.mean():.2f} | {wins} / {losses} | "
              f"{mcnemar_test(base, refined):.3g} |", flush=True)

    ranks = []
    for pair in pairs:
        X, Y, train, test = load(pair, tiny)
        # Rows are in frequency order (most frequent first): the row index is the rank.
        ranks.append((pair, np.median(np.unique(train[:, 0])), np.median(np.unique(test[:, 0]))))
        M0, M1 = fit_both(X, Y, train)
        line(pair, "test dictionary", hits(X, Y, M0, test), hits(X, Y, M1, test))
        for random_state in range(3):
            base, refined = [], []
            for fit_rows, held_rows in SeedWordKFold(5, random_state=random_state).split(train):
                M0, M1 = fit_both(X, Y, train[fit_rows])
                base.append(hits(X, Y, M0, train[held_rows]))
                refined.append(hits(X, Y, M1, train[held_rows]))
            line(pair, f"held-out seed words, 5 folds, random_state={random_state}",
                 np.concatenate(base), np.concatenate(refined))
    print("\n| pair | median frequency rank of the seed's source words | of the test's |\n|---|---|---|")
    for pair, seed_rank, test_rank in ranks:
        print(f"| {pair} | {seed_rank:,.0f} | {test_rank:,.0f} |")


def split_stability(pairs, bases, n_splits, folds, tiny, max_ranks=(None,)):
    candidates = default_candidates()
    how = f"{folds}-fold validated" if folds else "validated"
    print(f"| pair | base | validation max rank | ℓ2 alone | blind ℓ1 flow | {how}, random_state "
          f"0 … {n_splits - 1}: kept (test CSLS P@1) | validated mean − ℓ2 | worst − ℓ2 "
          "| median time s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for pair in pairs:
        X, Y, train, test = load(pair, tiny)
        for base in bases:
            seed = train if base == "5k" else first_words(train, 1000)
            M0 = ProcrustesAligner(dictionary="paired").fit(X, Y, pairs=seed).rotation_
            l2 = evaluate(X, Y, test, M0)[0].precision[1]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                blind = evaluate(X, Y, test, apply_chain(X, Y, candidates["l1_flow"], M0,
                                                         seed_pairs=seed)[-1])[0].precision[1]
            for max_rank in max_ranks:
                runs, seconds = [], []
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    for random_state in range(n_splits):
                        t0 = time.perf_counter()
                        sel = select_refinement(X, Y, seed, candidates, validation_folds=folds,
                                                validation_max_rank=max_rank,
                                                random_state=random_state)
                        seconds.append(time.perf_counter() - t0)
                        runs.append((sel.kept,
                                     evaluate(X, Y, test, sel.rotation_)[0].precision[1]))
                gains = np.array([p1 - l2 for _, p1 in runs])
                print(f"| {pair} | {base} | {'all' if max_rank is None else max_rank} | "
                      f"{100 * l2:.2f} | {100 * blind:.2f} | "
                      + ", ".join(f"{kept} ({100 * p1:.2f})" for kept, p1 in runs)
                      + f" | {100 * gains.mean():+.2f} | {100 * gains.min():+.2f} "
                      f"| {np.median(seconds):.0f} |", flush=True)


def l2_precision(pairs, bases, tiny):
    print("| pair | base | float64 CSLS / NN P@1 | float32 CSLS / NN P@1 | McNemar p (CSLS) "
          "| max abs diff of the maps |")
    print("|---|---|---|---|---|---|")
    for pair in pairs:
        X, Y, train, test = load(pair, tiny)
        X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
        for base in bases:
            seed = train if base == "5k" else first_words(train, 1000)
            M64 = ProcrustesAligner(dictionary="paired").fit(X, Y, pairs=seed).rotation_
            M32 = ProcrustesAligner(dictionary="paired").fit(X32, Y32, pairs=seed).rotation_
            c64, n64 = evaluate(X, Y, test, M64)
            c32, n32 = evaluate(X32, Y32, test, M32)
            print(f"| {pair} | {base} | {100 * c64.precision[1]:.2f} / {100 * n64.precision[1]:.2f} "
                  f"| {100 * c32.precision[1]:.2f} / {100 * n32.precision[1]:.2f} "
                  f"| {mcnemar_test(c64.hits[1], c32.hits[1]):.3g} "
                  f"| {float(np.abs(M64 - M32).max()):.1e} |", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", nargs="+", default=["fr-ru", "ru-fr"])
    ap.add_argument("--bases", nargs="+", choices=["5k", "1k"], default=["5k", "1k"])
    ap.add_argument("--tiny", action="store_true", help="the packaged demo sample (one 'pair')")
    ap.add_argument("--random-state", type=int, default=0)
    ap.add_argument("--grid", action="store_true", help="the GridSearchCV table instead")
    ap.add_argument("--l2-precision", action="store_true",
                    help="the ℓ2 fit on float32 spaces against float64")
    ap.add_argument("--agreement", action="store_true",
                    help="held-out seed words against the test dictionary, for one refinement")
    ap.add_argument("--splits", type=int, metavar="N",
                    help="the validated default under N held-out splits (random_state 0 … N-1)")
    ap.add_argument("--folds", type=int, metavar="K",
                    help="with --splits: validate by K-fold cross-validation of the seed "
                         "(select_refinement's validation_folds=K) instead of one split")
    ap.add_argument("--validation-max-rank", nargs="+", type=_max_rank, default=[None],
                    metavar="N", help="with --splits: select_refinement's validation_max_rank, "
                                      "one row per value ('all': the whole vocabularies)")
    args = ap.parse_args()
    pairs = ["demo"] if args.tiny else args.pairs
    if args.grid:
        grid(pairs, args.tiny)
        return
    if args.agreement:
        held_out_agreement(pairs, args.tiny)
        return
    if args.l2_precision:
        l2_precision(pairs, args.bases, args.tiny)
        return
    if args.splits:
        split_stability(pairs, args.bases, args.splits, args.folds, args.tiny,
                        args.validation_max_rank)
        return
    candidates = default_candidates(seed_union=True)
    rows, agreement = [], []
    print("| pair | base | method | CSLS P@1 | NN P@1 | McNemar p vs ℓ2 | kept | time s |")
    print("|---|---|---|---|---|---|---|---|")
    for pair in pairs:
        X, Y, train, test = load(pair, args.tiny)
        for base in args.bases:
            seed = train if base == "5k" else first_words(train, 1000)
            t0 = time.perf_counter()
            M0 = ProcrustesAligner(dictionary="paired").fit(X, Y, pairs=seed).rotation_
            t_l2 = time.perf_counter() - t0
            csls0, nn0 = evaluate(X, Y, test, M0)
            unsup0 = mean_csls_cosine(blocked_product(X, M0), Y)

            def row(name, M, seconds, kept=""):
                csls, nn = evaluate(X, Y, test, M)
                p = 1.0 if M is M0 else mcnemar_test(csls0.hits[1], csls.hits[1])
                print(f"| {pair} | {base} | {name} | {100 * csls.precision[1]:.2f} | "
                      f"{100 * nn.precision[1]:.2f} | {p:.3g} | {kept} | {seconds:.0f} |", flush=True)
                return csls

            row("ℓ2 alone", M0, t_l2)
            for name, chain in candidates.items():
                t0 = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    M = apply_chain(X, Y, chain, M0, seed_pairs=seed)[-1]
                seconds = time.perf_counter() - t0 + t_l2
                csls = row(f"{name} (blind)", M, seconds)
                d_test = csls.precision[1] - csls0.precision[1]
                d_unsup = mean_csls_cosine(blocked_product(X, M), Y) - unsup0
                agreement.append((pair, base, name, "test", d_test, d_unsup))
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sel = select_refinement(X, Y, seed, candidates, record_unsupervised=True,
                                        random_state=args.random_state)
            row("validated (select_refinement)", sel.rotation_, time.perf_counter() - t0, sel.kept)
            rows.append((pair, base, sel))
    print("\n# held-out scores inside select_refinement, and MUSE's unsupervised criterion")
    print("| pair | base | step | held-out CSLS P@1 | wins/losses vs base | significant | kept "
          "| mean CSLS cosine |")
    print("|---|---|---|---|---|---|---|---|")
    for pair, base, sel in rows:
        s0 = sel.steps[0]
        for s in sel.steps:
            print(f"| {pair} | {base} | {s['name']} | {100 * s['held_out_p1']:.2f} | "
                  f"{s['wins']}/{s['losses']} | {s['significant']} | {s['kept']} | "
                  f"{s['unsupervised']:.4f} |")
            if s is not s0:
                agreement.append((pair, base, s["name"], "held-out",
                                  s["held_out_p1"] - s0["held_out_p1"],
                                  s["unsupervised"] - s0["unsupervised"]))
    for kind in ("held-out", "test"):
        rel = [a for a in agreement if a[3] == kind]
        agree = sum(np.sign(a[4]) == np.sign(a[5]) for a in rel)
        print(f"\nMUSE criterion vs {kind} P@1: same sign of change from the ℓ2 base in "
              f"{agree} of {len(rel)} refinements")


if __name__ == "__main__":
    main()
