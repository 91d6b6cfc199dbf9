"""The ``l1align`` subcommands, one function each, on arrays.

Files are read with :mod:`sklearn_l1align.io` into word lists and NumPy arrays, fitted
with the package's estimators, scored with :mod:`sklearn_l1align.metrics`, and written
back with :mod:`sklearn_l1align.io`; the gensim adapter is not involved. This module is
imported only once a command runs, so that ``l1align --help`` stays fast.

Every command checks all its output paths first
(:func:`sklearn_l1align.io.check_output_path`), before it reads or fits anything.
"""

import contextlib
import logging
import sys
import time
from pathlib import Path

import numpy as np

from .. import io as l1io
from .._base import _n_scorable_words
from .._dictionary import CSLSDictionaryBuilder
from .._l1_procrustes import L1ProcrustesAligner
from .._neighbors import topk_neighbors
from .._normalize import normalize_embeddings
from .._procrustes import ProcrustesAligner
from .._solvers import ADMMSolver, HuberContinuationSolver, StiefelFlowSolver, StopReason
from .._threads import blocked_product
from ..io._atomic import StagedOutputs
from ..metrics import bli_precision
from ..model_selection import default_candidates, resolve_validation_folds, select_refinement
from . import _report
from . import output_paths
from ._parser import DEMO_BASENAME

logger = logging.getLogger(__name__.rpartition(".")[0])

__all__ = ["COMMANDS", "align", "demo", "evaluate", "refine", "translate"]

# --------------------------------------------------------------------------- outputs


def _check_outputs(outputs, inputs):
    """Check every output path before any work; ``None`` entries are skipped."""
    inputs = tuple(p for p in inputs if p is not None and p != "-")
    for path in outputs:
        if path is not None and path != "-":
            l1io.check_output_path(path, inputs=inputs)


def _write_outputs(paths, src, rotation, metadata, report):
    """Write ``src.raw @ rotation``, the mapping and the report; all appear together or none."""
    with StagedOutputs(paths.values()) as staged:
        with _timed(f"Writing {paths['vectors']}") as t:
            mapped = blocked_product(src.raw, rotation, dtype=np.float64,
                                     out_dtype=np.float32)
            l1io.write_word2vec(staged[paths["vectors"]], src.words, mapped,
                                binary=l1io.is_binary_name(paths["vectors"]))
            l1io.save_mapping(staged[paths["mapping"]], rotation,
                              metadata=_report.jsonable(metadata))
        report["seconds"]["write"] = t["seconds"]
        report["outputs"] = {key: str(path) for key, path in paths.items()}
        _report.write_json(staged[paths["report"]], report)
        staged.commit()


# --------------------------------------------------------------------------- shared steps


@contextlib.contextmanager
def _timed(label):
    """Log ``label`` now, and its duration when the ``with`` block ends normally.

    Yields a dict whose ``"seconds"`` entry holds the duration once the block is over.
    """
    logger.info("%s ...", label)
    timer = {"seconds": 0.0}
    start = time.perf_counter()
    yield timer
    timer["seconds"] = time.perf_counter() - start
    logger.info("%s: done in %.1f s.", label, timer["seconds"])


def _steps(args):
    return [] if args.normalize == ["none"] else list(args.normalize)


class _Space:
    """One embedding space as read: its words, the raw vectors and the normalised ones."""

    def __init__(self, words, raw, steps, path=None):
        self.path = path
        self.words = words
        self.raw = raw
        self.index = {word: i for i, word in enumerate(words)}
        # One float32 copy normalised in place, as the gensim adapter does.
        self.vectors = np.array(raw, dtype=np.float32, copy=True)
        if steps:
            normalize_embeddings(self.vectors, steps=steps, copy=False)


def _read_space(path, label, args, steps):
    with _timed(f"Reading the {label} embeddings {path}"):
        words, raw = l1io.read_word2vec(path, max_vocab=args.max_vocab,
                                        lowercase=args.lowercase)
    logger.info("%s: %d words of dimension %d.", path, len(words), raw.shape[1])
    return words, raw


def _read_spaces(args):
    """Read SRC and TGT, check their dimensions and normalise both with ``--normalize``.

    The raw source vectors are kept (``src.raw``) so that outputs can be written in
    their coordinates.
    """
    steps = _steps(args)
    src_words, src_raw = _read_space(args.src, "source", args, steps)
    tgt_words, tgt_raw = _read_space(args.tgt, "target", args, steps)
    if src_raw.shape[1] != tgt_raw.shape[1]:
        raise ValueError(
            "SRC and TGT must have the same dimension. Got "
            f"{src_raw.shape[1]} ({args.src}) and {tgt_raw.shape[1]} ({args.tgt}) instead."
        )
    with _timed(f"Normalising both spaces ({', '.join(steps) or 'none'})"):
        return (_Space(src_words, src_raw, steps, args.src),
                _Space(tgt_words, tgt_raw, steps, args.tgt))


def word_pairs_to_indices(word_pairs, src, tgt):
    """Row-index pairs of the in-vocabulary word pairs, and the JSON form of their coverage."""
    pairs, coverage = l1io.dictionary_to_indices(word_pairs, src.words, tgt.words)
    return pairs, coverage.to_dict(max_dropped=_report.REPORT_EXAMPLES)


def identical_pairs(src, tgt):
    """Row-index pairs of the strings present in both vocabularies (VecMap's ``--identical``)."""
    pairs = [(i, tgt.index[word]) for i, word in enumerate(src.words) if word in tgt.index]
    if not pairs:
        raise ValueError(
            "--identical needs strings present in both vocabularies. Got none in common "
            f"between {len(src.words)} source and {len(tgt.words)} target words instead; "
            "give a --seed-dict."
        )
    logger.info("Identical strings: %d words are in both vocabularies.", len(pairs))
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)


def _make_solver(name, time_budget=None, verbose=0):
    if name == "cayley":
        return StiefelFlowSolver(integrator="cayley", time_budget=time_budget, verbose=verbose)
    if name == "vode":
        return StiefelFlowSolver(time_budget=time_budget, verbose=verbose)
    if name == "admm":
        return ADMMSolver(time_budget=time_budget, verbose=verbose)
    return HuberContinuationSolver(time_budget=time_budget, verbose=verbose)


def _l1_builder(args):
    return CSLSDictionaryBuilder(k=args.dict_k, direction=args.dict_direction,
                                 max_rank=args.dict_max_rank)


def _dictionary_settings(args):
    return {"k": args.dict_k, "direction": args.dict_direction, "max_rank": args.dict_max_rank}


def _reraise_interrupt(aligner):
    """The solvers catch Ctrl-C and return their best map; on the command line it means stop."""
    if any(r.stop_reason is StopReason.INTERRUPTED for r in aligner.solver_results_):
        raise KeyboardInterrupt


def _fit_l1(X_src, X_tgt, args):
    """Fit the ℓ1 step on ``X_src`` (already mapped by the earlier steps) and ``X_tgt``."""
    solver = _make_solver(args.solver, args.time_budget, min(args.verbose, 2))
    aligner = L1ProcrustesAligner(dictionary=_l1_builder(args), solver=solver,
                                  n_refinements=args.n_refinements, verbose=min(args.verbose, 1))
    with _timed(f"l1 refinement ({args.solver} solver, {1 + args.n_refinements} round(s), "
                f"induced dictionary: CSLS-{args.dict_k} {args.dict_direction})") as t:
        aligner.fit(X_src, X_tgt)
    _reraise_interrupt(aligner)
    summary = _report.l1_summary(aligner, t["seconds"])
    summary["solver"] = {"name": args.solver, **solver.get_params()}
    summary["dictionary"] = _dictionary_settings(args)
    logger.info("l1 solver %s; l1 loss %.6g -> %.6g.", summary["stop"],
                summary["initial_loss"], summary["loss"])
    return aligner, summary


def evaluate_arrays(X_src, X_tgt, pairs, coverage, *, ks=(1, 5, 10), methods=("nn", "csls"),
                    csls_k=10, label=None):
    """BLI precision@k of mapped source rows against target rows, per retrieval method."""
    with _timed(f"BLI evaluation{'' if label is None else ' after ' + label}"):
        results = {method: bli_precision(X_src, X_tgt, pairs, k=tuple(ks), method=method,
                                         csls_k=csls_k)
                   for method in methods}
    for method, res in results.items():
        logger.info("BLI %s: %s over %d source words.", _report.method_name(method, csls_k),
                    ", ".join(f"P@{k} {100 * p:.1f}" for k, p in res.precision.items()),
                    res.n_queries)
    return {"precision": {m: dict(r.precision) for m, r in results.items()},
            "n_queries": next(iter(results.values())).n_queries,
            "coverage": coverage, "csls_k": int(csls_k)}


def _score(X_src, tgt, test, label):
    return _report.bli_report(evaluate_arrays(X_src, tgt.vectors, *test, label=label))


def _map(X, rotation):
    return blocked_product(X, rotation)


# --------------------------------------------------------------------------- commands


def _blind_chain(src, tgt, pairs, test, args, report):
    """ℓ2 on the seed (with ``--l2-refinements`` rounds), then the ℓ1 step: every step kept."""
    builder = CSLSDictionaryBuilder() if args.l2_refinements else "paired"
    l2 = ProcrustesAligner(dictionary=builder, n_refinements=args.l2_refinements,
                           verbose=min(args.verbose, 1))
    with _timed(f"l2 Procrustes on {len(pairs)} seed pairs"
                + (f" and {args.l2_refinements} CSLS refinement round(s)"
                   if args.l2_refinements else "")) as t:
        l2.fit(src.vectors, tgt.vectors, pairs=pairs)
    rotation = l2.rotation_
    step = {"step": "l2", "seconds": t["seconds"], "dictionary_sizes": l2.dictionary_sizes_,
            "residuals": l2.residuals_}
    if test is not None:
        step["bli"] = _score(_map(src.vectors, rotation), tgt, test, "l2")
    report["steps"].append(step)
    if args.refine == "l1":
        l1, step = _fit_l1(_map(src.vectors, rotation), tgt.vectors, args)
        rotation = rotation @ l1.rotation_
        if test is not None:
            step["bli"] = _score(_map(src.vectors, rotation), tgt, test, "l1")
        report["steps"].append(step)
    return rotation


def _l1_aligner(args, solver):
    return L1ProcrustesAligner(dictionary=_l1_builder(args), solver=solver,
                               n_refinements=args.n_refinements, verbose=min(args.verbose, 1))


def _candidates(args, solver):
    """The chains ``select_refinement`` compares with the ℓ2 base, from ``--candidates``."""
    candidates = {}
    if args.candidates in ("requested", "both"):
        chain = []
        if args.l2_refinements:  # the base is round 0: the rest are induced rounds
            chain.append(ProcrustesAligner(dictionary=CSLSDictionaryBuilder(),
                                           n_refinements=args.l2_refinements - 1,
                                           verbose=min(args.verbose, 1)))
        candidates["requested"] = [*chain, _l1_aligner(args, solver)]
    if args.candidates in ("paper", "both"):
        candidates["paper"] = default_candidates(solver)["paper"]
    return candidates


def _validated_chain(src, tgt, pairs, test, args, report):
    """Keep a refinement step only when held-out seed pairs show that it helps.

    :func:`sklearn_l1align.model_selection.select_refinement` holds out
    ``--validation-fraction`` of the seed's source words (or, with ``--validation-folds``,
    each of K folds in turn), fits ℓ2 on the rest, scores it and every step of each
    candidate chain by CSLS-10 P@1 on the held-out words, keeps the best step only if it
    beats ℓ2 by more than noise, and refits the kept chain on all the seed pairs.
    """
    n_words = len(np.unique(pairs[:, 0]))
    n_scorable = _n_scorable_words(pairs, args.validation_max_rank)
    folds = resolve_validation_folds(args.validation_folds, args.validation_fraction, n_scorable)
    if n_words < max(2, folds or 0):
        raise ValueError("Validation holds out some of the seed's source words, so the seed needs "
                         f"at least {max(2, folds or 0)} of them. Got {n_words} instead; "
                         "--no-validation fits on the seed as it is.")
    solver = _make_solver(args.solver, args.time_budget, min(args.verbose, 2))
    candidates = _candidates(args, solver)
    with _timed(f"Validated refinement: l2 on {len(pairs)} seed pairs, then "
                f"{', '.join(candidates)} chain(s), each step scored on held-out seed words"
                + (f" ({folds} folds)" if folds else "")) as t:
        selection = select_refinement(src.vectors, tgt.vectors, pairs, candidates,
                                      validation=args.validation_fraction,
                                      validation_folds=folds,
                                      validation_max_rank=args.validation_max_rank,
                                      random_state=args.random_state,
                                      verbose=0 if args.quiet else 1)
    validation = selection.report()
    validation["n_seed_pairs"] = len(pairs)
    validation["seconds"] = t["seconds"]
    report["validation"] = validation
    logger.info("Kept %s, refitted on all %d seed pairs.", validation["kept"], len(pairs))
    l2_step = {"step": "l2", "seconds": validation["steps"][0]["fit_seconds"],
               "dictionary_sizes": [len(pairs)]}
    if test is not None:  # the l2 base on all the seed pairs, for comparison
        l2 = ProcrustesAligner(dictionary="paired").fit(src.vectors, tgt.vectors, pairs=pairs)
        l2_step["bli"] = _score(_map(src.vectors, l2.rotation_), tgt, test, "l2")
    report["steps"].append(l2_step)
    rotation = selection.rotation_
    if validation["kept"] != "l2":
        step = {"step": validation["kept"], "seconds": validation["refit_seconds"]}
        if test is not None:
            step["bli"] = _score(_map(src.vectors, rotation), tgt, test, validation["kept"])
        report["steps"].append(step)
    return rotation


def align(args):
    """``l1align align``: ℓ2 Procrustes on a seed, then (by default) the ℓ1 step."""
    start = time.perf_counter()
    paths = output_paths(args.output)
    _check_outputs(paths.values(), (args.src, args.tgt, args.seed_dict, args.eval_dict))
    seed_words = (None if args.seed_dict is None
                  else l1io.read_dictionary(args.seed_dict, lowercase=args.lowercase))
    if args.eval_dict is not None:  # a malformed test file fails before the long read
        test_words = l1io.read_dictionary(args.eval_dict, lowercase=args.lowercase)
    src, tgt = _read_spaces(args)
    if seed_words is None:
        pairs = identical_pairs(src, tgt)
        seed = {"kind": "identical", "n_pairs": len(pairs), "n_kept": len(pairs),
                "n_dropped": 0}
    else:
        pairs, coverage = word_pairs_to_indices(seed_words, src, tgt)
        seed = {"kind": "dictionary", **coverage}
    test = (None if args.eval_dict is None
            else word_pairs_to_indices(test_words, src, tgt))
    report = _report.base_report(args, "align")
    report["inputs"] = _report.space_inputs(args, src, tgt, seed_dict=args.seed_dict,
                                            identical=args.identical, eval_dict=args.eval_dict)
    report["settings"] = {"normalize": _steps(args), "max_vocab": args.max_vocab,
                          "lowercase": args.lowercase, "refine": args.refine,
                          "l2_refinements": args.l2_refinements, "solver": args.solver,
                          "n_refinements": args.n_refinements, "time_budget": args.time_budget,
                          "dictionary": _dictionary_settings(args)}
    report["seed"] = seed
    report["seed_dictionary"] = seed  # the name before --identical existed
    report["seconds"]["read"] = time.perf_counter() - start

    report["settings"]["validation"] = (
        {"fraction": args.validation_fraction, "folds": args.validation_folds,
         "max_rank": args.validation_max_rank, "random_state": args.random_state,
         "candidates": args.candidates} if args.validation and args.refine == "l1" else None)
    if args.validation and args.refine == "l1":
        rotation = _validated_chain(src, tgt, pairs, test, args, report)
    else:
        rotation = _blind_chain(src, tgt, pairs, test, args, report)
    report["seconds"]["fit"] = time.perf_counter() - start - report["seconds"]["read"]
    report["seconds"]["total"] = time.perf_counter() - start
    metadata = _report.mapping_metadata("align", [s["step"] for s in report["steps"]],
                                        _steps(args), args.src, args.tgt)
    _write_outputs(paths, src, rotation, metadata, report)
    _report.print_run_summary(report, paths)
    return 0


def refine(args):
    """``l1align refine``: the ℓ1 step alone, on spaces already aligned."""
    start = time.perf_counter()
    paths = output_paths(args.output)
    _check_outputs(paths.values(), (args.src, args.tgt, args.eval_dict))
    if args.eval_dict is not None:
        test_words = l1io.read_dictionary(args.eval_dict, lowercase=args.lowercase)
    src, tgt = _read_spaces(args)
    test = (None if args.eval_dict is None
            else word_pairs_to_indices(test_words, src, tgt))
    report = _report.base_report(args, "refine")
    report["inputs"] = _report.space_inputs(args, src, tgt, eval_dict=args.eval_dict)
    report["settings"] = {"normalize": _steps(args), "max_vocab": args.max_vocab,
                          "lowercase": args.lowercase, "solver": args.solver,
                          "n_refinements": args.n_refinements, "time_budget": args.time_budget,
                          "dictionary": _dictionary_settings(args)}
    report["seconds"]["read"] = time.perf_counter() - start
    if test is not None:
        report["bli_before"] = _score(src.vectors, tgt, test, "reading")
    l1, step = _fit_l1(src.vectors, tgt.vectors, args)
    if test is not None:
        step["bli"] = _score(_map(src.vectors, l1.rotation_), tgt, test, "l1")
    report["steps"].append(step)
    report["seconds"]["fit"] = time.perf_counter() - start - report["seconds"]["read"]
    report["seconds"]["total"] = time.perf_counter() - start
    metadata = _report.mapping_metadata("refine", ["l1"], _steps(args), args.src, args.tgt)
    _write_outputs(paths, src, l1.rotation_, metadata, report)
    _report.print_run_summary(report, paths)
    return 0


def evaluate(args):
    """``l1align evaluate``: BLI precision@k by the chosen retrievals, and coverage."""
    start = time.perf_counter()
    _check_outputs([args.json], (args.src, args.tgt, args.dict))
    test_words = l1io.read_dictionary(args.dict, lowercase=args.lowercase)
    src, tgt = _read_spaces(args)
    pairs, coverage = word_pairs_to_indices(test_words, src, tgt)
    methods = tuple(dict.fromkeys(args.retrieval))
    ks = tuple(sorted(set(args.ks)))
    evaluation = evaluate_arrays(src.vectors, tgt.vectors, pairs, coverage, ks=ks,
                                 methods=methods, csls_k=args.csls_k)
    print(_report.format_bli(evaluation, f"BLI {args.src} -> {args.tgt} on {args.dict}"))
    if args.json is not None:
        report = _report.base_report(args, "evaluate")
        report["inputs"] = _report.space_inputs(args, src, tgt, dict=args.dict)
        report["settings"] = {"normalize": _steps(args), "max_vocab": args.max_vocab,
                              "lowercase": args.lowercase, "csls_k": args.csls_k,
                              "retrieval": list(methods), "k": list(ks)}
        report.update(_report.bli_report(evaluation))
        del report["steps"]
        report["seconds"]["total"] = time.perf_counter() - start
        with StagedOutputs([args.json]) as staged:
            _report.write_json(staged[args.json], report)
            staged.commit()
    return 0


def _read_words(args):
    """The words to translate: the arguments, then those of ``--words-file`` (``-``: stdin)."""
    words = list(args.words)
    if args.words_file is not None:
        if args.words_file == "-":
            lines = sys.stdin.read().splitlines()
        else:
            with open(args.words_file, encoding="utf-8") as f:
                lines = f.read().splitlines()
        words.extend(word for line in lines for word in line.split())
    if args.lowercase:
        words = [word.lower() for word in words]
    words = list(dict.fromkeys(words))
    if not words:
        raise ValueError("translate needs words: give them as arguments or with --words-file "
                         "(one per line, '-' for stdin). Got none instead.")
    return words


def translate(args):
    """``l1align translate``: each word's top-k target words with their scores."""
    out_json = None if args.json in (None, "-") else args.json
    _check_outputs([out_json], (args.src, args.tgt, args.words_file))
    words = _read_words(args)
    src, tgt = _read_spaces(args)
    found = [word for word in words if word in src.index]
    oov = [word for word in words if word not in src.index]
    rows = [src.index[word] for word in found]
    if not rows:
        raise KeyError(f"At least one word to translate must be in the source vocabulary "
                       f"({len(src.words)} words of {args.src}). Got {len(words)}, none of them "
                       f"in it ({' '.join(words[:5])}), instead.")
    if oov:
        logger.warning("%d of %d words are not in the source vocabulary (%s): %s", len(oov),
                       len(words), args.src, " ".join(oov[:_report.REPORT_EXAMPLES]))
    topn = min(args.topn, len(tgt.words))
    with _timed(f"Translating {len(rows)} words ({args.retrieval})"):
        idx, scores = topk_neighbors(src.vectors, tgt.vectors, topn, method=args.retrieval,
                                     csls_k=args.csls_k, queries=np.asarray(rows, dtype=np.int64))
    translations = {
        word: [(tgt.words[j], float(s)) for j, s in zip(row.tolist(), score.tolist())]
        for word, row, score in zip(found, idx, scores)
    }
    if args.json is None:
        print(_report.format_translations(translations, args.retrieval, args.csls_k))
        for word in oov:
            print(f"{word}\t(not in the source vocabulary)")
        return 0
    report = _report.translations_report(translations, oov, args)
    if out_json is None:
        sys.stdout.write(_report.dumps(report))
    else:
        with StagedOutputs([out_json]) as staged:
            _report.write_json(staged[out_json], report)
            staged.commit()
    return 0


def demo(args):
    """``l1align demo``: the built-in French-Russian sample, end to end."""
    from ..datasets import load_demo

    start = time.perf_counter()
    paths = None
    if args.output is not None:
        folder = Path(args.output)
        if not folder.is_dir():
            raise FileNotFoundError(
                f"-o must name an existing folder. Got '{folder}', which is not one, instead."
            )
        paths = output_paths(folder / f"{DEMO_BASENAME}.vec")
        _check_outputs(paths.values(), ())
    with _timed("Loading the built-in French-Russian demo sample"):
        demo_data = load_demo()
    steps = _steps(args)
    fr = _Space(demo_data.src_words, demo_data.src_vectors, steps)
    ru = _Space(demo_data.tgt_words, demo_data.tgt_vectors, steps)
    test = demo_data.test_pairs
    rows = []

    def measure(name, aligner, rotation, seed):
        X = fr.vectors if rotation is None else _map(fr.vectors, rotation)
        with _timed(name) as t:
            aligner.fit(X, ru.vectors, pairs=seed)
        rotation = aligner.rotation_ if rotation is None else rotation @ aligner.rotation_
        mapped = _map(fr.vectors, rotation)
        precision = {m: bli_precision(mapped, ru.vectors, test, k=(1,), method=m)
                     for m in ("nn", "csls")}
        rows.append({"step": name, "pairs": aligner.dictionary_sizes_[-1], "seconds": t["seconds"],
                     "precision": {m: dict(r.precision) for m, r in precision.items()},
                     "n_queries": precision["csls"].n_queries})
        return rotation

    verbose = min(args.verbose, 1)
    l2 = ProcrustesAligner(verbose=verbose)
    base = measure("l2 Procrustes on the seed pairs", l2, None, demo_data.train_pairs)
    if args.l2_refinements:
        l2 = ProcrustesAligner(dictionary=CSLSDictionaryBuilder(),
                               n_refinements=args.l2_refinements, verbose=verbose)
        rounds = f"{args.l2_refinements} CSLS round{'s' if args.l2_refinements > 1 else ''}"
        base = measure(f"l2 refinement ({rounds})", l2, None, demo_data.train_pairs)
    solver = _make_solver(args.solver, args.time_budget, min(args.verbose, 2))
    l1 = L1ProcrustesAligner(solver=solver, verbose=verbose)
    rotation = measure(f"l1 refinement ({args.solver})", l1, base, None)
    _reraise_interrupt(l1)
    total = time.perf_counter() - start

    n_test = rows[0]["n_queries"]
    header = (f"l1align demo: French -> Russian, {len(fr.words)} + {len(ru.words)} "
              f"words ({fr.vectors.shape[1]}-d), normalised {', '.join(steps) or 'not at all'}; "
              f"{len(demo_data.train_pairs)} seed pairs, {n_test} test source words "
              f"({len(test)} pairs)")
    _report.print_demo_table(rows, header, l1)
    if paths is not None:
        report = _report.base_report(args, "demo")
        report["settings"] = {"normalize": steps, "l2_refinements": args.l2_refinements,
                              "solver": {"name": args.solver, **solver.get_params()}}
        report["steps"] = rows
        report["l1"] = _report.l1_summary(l1, rows[-1]["seconds"])
        report["seconds"]["fit"] = total
        metadata = _report.mapping_metadata(
            "demo", ["l2", "l1"], steps,
            applies_to="the demo's French vectors, raw or normalised with 'normalize' "
                       "(the two commute): mapped = src @ rotation")
        _write_outputs(paths, fr, rotation, metadata, report)
        print(f"Wrote {paths['vectors']}, {paths['mapping']} and {paths['report']}.")
    print(f"Total time: {time.perf_counter() - start:.1f} s")
    return 0


#: The subcommands by name.
COMMANDS = {"align": align, "refine": refine, "evaluate": evaluate, "translate": translate,
            "demo": demo}
