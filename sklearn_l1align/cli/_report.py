"""What the ``l1align`` commands report: the JSON report's parts and the printed summaries.

Nothing here reads files or fits anything: the commands (:mod:`._commands`) pass their
results in, and these functions turn them into JSON-able dicts and text. Text goes to
stdout (the result); progress and log lines go to stderr (see :mod:`sklearn_l1align.cli`).
"""

import json
import os

import numpy as np

from .. import __version__
from .. import io as l1io
from ..metrics import BLI_CONVENTION

#: Dropped dictionary pairs quoted in a JSON report.
REPORT_EXAMPLES = 20



def jsonable(value):
    """Convert NumPy values, paths and enums for :func:`json.dump`."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def dumps(report):
    """The report as JSON text, ending in a newline (NaN refused)."""
    return json.dumps(jsonable(report), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_json(path, report):
    """Write ``report`` as JSON to ``path`` atomically."""
    with l1io.atomic_write(path) as f:
        f.write(dumps(report))


def base_report(args, command):
    """The report's skeleton: command, version, argv and the empty sections."""
    return {
        "command": command,
        "version": __version__,
        "argv": getattr(args, "argv", None),
        "inputs": {},
        "settings": {},
        "steps": [],
        "seconds": {},
    }


def space_inputs(args, src, tgt, **extra):
    """The ``inputs`` section: the files and the sizes of the two spaces as read."""
    return {"src": args.src, "tgt": args.tgt, **extra, "n_src_words": len(src.words),
            "n_tgt_words": len(tgt.words), "dim": src.vectors.shape[1]}


def mapping_metadata(command, steps, normalize, src=None, tgt=None, applies_to=None):
    """The metadata saved in ``BASE.mapping.npz`` beside the rotation."""
    return {
        "command": command,
        "version": __version__,
        **({} if src is None else {"src": os.fspath(src), "tgt": os.fspath(tgt)}),
        "normalize": list(normalize),
        "steps": list(steps),
        "applies_to": applies_to or (
            "the src vectors as read, raw or normalised with 'normalize' (the two "
            "commute): mapped = src @ rotation"),
    }


def method_name(method, csls_k):
    """``NN`` or ``CSLS-<k>``, as the tables print it."""
    return "NN" if method == "nn" else f"CSLS-{csls_k}"


def bli_report(evaluation):
    """The JSON form of an evaluation: precision as ``{"P@k": p}`` per method, and coverage."""
    return {
        "precision": {m: {f"P@{k}": p for k, p in ps.items()}
                      for m, ps in evaluation["precision"].items()},
        "n_queries": evaluation["n_queries"],
        "csls_k": evaluation["csls_k"],
        "coverage": evaluation["coverage"],
        "convention": BLI_CONVENTION,
    }


def format_bli(evaluation, title):
    """The ``evaluate`` table: one row per retrieval method, one column per k, in %."""
    coverage = evaluation["coverage"]
    ks = sorted(next(iter(evaluation["precision"].values())))
    lines = [
        f"{title}: {evaluation['n_queries']} source words queried; coverage "
        f"{100 * coverage['coverage']:.1f}% of {coverage['n_source_words']} source words "
        f"({coverage['n_dropped']} of {coverage['n_pairs']} pairs dropped as out of vocabulary)",
        f"{'method':<9}" + "".join(f"{'P@' + str(k):>8}" for k in ks),
    ]
    for method, precision in evaluation["precision"].items():
        lines.append(f"{method_name(method, evaluation['csls_k']):<9}"
                     + "".join(f"{100 * precision[k]:>8.1f}" for k in ks))
    lines.append("Precision in %. " + BLI_CONVENTION)
    return "\n".join(lines)


def stop_text(reason, message, seconds):
    """A solver's stop, saying which clock each number is on.

    ``max_time`` (the horizon of the flow) is in flow time, the integration variable ``t``
    of the paper's ODE; ``time_budget`` and the wall time are seconds.
    """
    text = f"stopped by {reason} ({message}) after {seconds:.1f} s of wall time"
    if reason == "max_time" and "flow" not in message:  # solvers that do not say it themselves
        text += "; max_time is flow time (the ODE's t), not seconds"
    return text


def l1_summary(aligner, seconds):
    """The report's entry for an ℓ1 step: stop, losses, rounds and their dictionaries."""
    result = aligner.solver_result_
    wall = sum(r.wall_time for r in aligner.solver_results_)
    return {
        "step": "l1",
        "seconds": seconds,
        "dictionary_sizes": aligner.dictionary_sizes_,
        "stop_reason": result.stop_reason.value,
        "message": result.message,
        "stop": stop_text(result.stop_reason.value, result.message, wall),
        "initial_loss": aligner.solver_results_[0].initial_loss,
        "loss": result.loss,
        "n_steps": aligner.n_iter_,
        "orthogonality_error": result.orthogonality_error,
        "rounds": [
            {"pairs": size, "stop_reason": r.stop_reason.value, "initial_loss": r.initial_loss,
             "loss": r.loss, "n_steps": r.n_steps, "seconds": r.wall_time}
            for size, r in zip(aligner.dictionary_sizes_, aligner.solver_results_)
        ],
    }


def _p1_text(bli):
    return "; P@1 " + ", ".join(
        f"{method_name(m, bli['csls_k'])} {100 * v['P@1']:.1f}%" for m, v in bli["precision"].items())


def _step_name(entry):
    """A scored step's name as ``select_refinement`` reports the kept one: ``"paper[1]"``."""
    return f"{entry['candidate']}[{entry['step']}]"


def verdict(entry, kept, kept_score=None):
    """What validation did with one step: the base, kept, or rejected.

    ``kept_score`` is the kept step's held-out score: a step that ties it was passed over
    because the kept one comes first (fewer steps, or an earlier candidate).
    """
    if entry["candidate"] == "l2":
        return "base" + (" (kept: no refinement helped)" if kept == "l2" else "")
    if _step_name(entry) == kept:
        return "kept (best)"
    if entry["kept"]:
        return "kept (on the way to the best)"
    if entry.get("significant"):
        if kept_score is not None and entry.get("held_out_p1") == kept_score:
            return "not kept (a gain beyond noise that ties the kept step, which comes first)"
        return "not kept (a gain beyond noise, but not the best)"
    return "rejected (no gain beyond noise)"


def print_run_summary(report, paths):
    """The lines ``align`` and ``refine`` print on stdout when they are done."""
    if "seed" in report:
        seed = report["seed"]
        print(f"seed: {seed['kind']}, {seed['n_kept']} pairs in vocabulary"
              + (f" ({seed['n_dropped']} of {seed['n_pairs']} dropped)"
                 if seed["kind"] == "dictionary" else ""))
    validation = report.get("validation")
    if validation is not None:
        folds = validation["settings"].get("validation_folds")
        if folds:
            print(f"validation: {folds} folds of the seed's source words, each held out once "
                  f"({validation['n_held_out_words']} words, {validation['n_held_out_pairs']} "
                  f"pairs), steps fitted on the other folds (about "
                  f"{validation['n_fit_pairs']} pairs); held-out CSLS-10 P@1 per step:")
        else:
            print(f"validation: {validation['n_held_out_words']} seed source words held out "
                  f"({validation['n_held_out_pairs']} pairs), steps fitted on the other "
                  f"{validation['n_fit_pairs']} pairs; held-out CSLS-10 P@1 per step:")
        max_rank = validation["settings"].get("validation_max_rank")
        if max_rank is not None:
            print(f"  (scored within the {max_rank} most frequent words of each space; "
                  "held-out pairs with a word beyond them not scored)")
        width = max(len(s["name"]) for s in validation["steps"]) + 2
        kept_score = next((s["held_out_p1"] for s in validation["steps"]
                           if _step_name(s) == validation["kept"]), None)
        for s in validation["steps"]:
            fit = ", ".join(
                ([f"{s['n_dictionary_pairs']} pairs"] if "n_dictionary_pairs" in s else [])
                + ([f"stopped: {s['stop_reason']}"] if "stop_reason" in s else []))
            print(f"  {s['name']:<{width}}{100 * s['held_out_p1']:>6.1f}%  "
                  f"(+{s['wins']}/-{s['losses']} words against l2, "
                  f"McNemar p={s['mcnemar_p']:.2g})" + (f"  [{fit}]" if fit else "")
                  + f"  {verdict(s, validation['kept'], kept_score)}")
        print(f"kept: {validation['kept']}, refitted on all {validation['n_seed_pairs']} seed "
              "pairs")
    for step in report["steps"]:
        line = f"{step['step']}: {step['seconds']:.1f} s"
        if "dictionary_sizes" in step:
            line += f", dictionary sizes {step['dictionary_sizes']}"
        if step["step"] == "l1":
            line += (f", {step['stop']}, "
                     f"l1 loss {step['initial_loss']:.6g} -> {step['loss']:.6g}")
        if "bli" in step:
            line += _p1_text(step["bli"])
        print(line)
    print(f"Wrote {paths['vectors']}, {paths['mapping']} and {paths['report']} "
          f"in {report['seconds']['total']:.1f} s.")


def print_demo_table(rows, header, l1):
    """The ``demo`` table: P@1 by NN and CSLS-10 after each step, and the ℓ1 solver's stop."""
    print(header)
    print()
    width = max(len(r["step"]) for r in rows) + 2
    print(f"{'step':<{width}}{'pairs':>6}{'NN P@1':>9}{'CSLS-10 P@1':>13}{'time':>9}")
    for r in rows:
        p = r["precision"]
        print(f"{r['step']:<{width}}{r['pairs']:>6}{100 * p['nn'][1]:>8.1f}%"
              f"{100 * p['csls'][1]:>12.1f}%{r['seconds']:>7.1f} s")
    print()
    before, after = rows[-2]["precision"], rows[-1]["precision"]
    print(f"l1 minus l2 (P@1, points): NN {100 * (after['nn'][1] - before['nn'][1]):+.1f}, "
          f"CSLS-10 {100 * (after['csls'][1] - before['csls'][1]):+.1f}")
    result = l1.solver_result_
    change = 100 * (result.loss - result.initial_loss) / result.initial_loss
    print(f"l1 solver: {stop_text(result.stop_reason.value, result.message, result.wall_time)}; "
          f"l1 loss {result.initial_loss:.6g} -> {result.loss:.6g} ({change:+.2f}%) in "
          f"{result.n_steps} steps")


def translations_report(translations, oov, args):
    """The JSON form of ``translate``'s output."""
    return {
        "command": "translate",
        "version": __version__,
        "src": args.src,
        "tgt": args.tgt,
        "retrieval": args.retrieval,
        "csls_k": args.csls_k if args.retrieval == "csls" else None,
        "topn": args.topn,
        "translations": {word: [{"word": w, "score": s} for w, s in found]
                         for word, found in translations.items()},
        "oov": list(oov),
    }


def format_translations(translations, retrieval, csls_k):
    """``translate``'s text output: one line per word, ``word<TAB>target (score) ...``."""
    score = "cos" if retrieval == "nn" else f"CSLS-{csls_k}"
    lines = [f"# top {len(next(iter(translations.values()), []))} translations by "
             f"{method_name(retrieval, csls_k)} (score: {score})"]
    for word, found in translations.items():
        lines.append(word + "\t" + "  ".join(f"{w} ({s:.3f})" for w, s in found))
    return "\n".join(lines)
