"""The ``l1align`` subcommands (``sklearn_l1align.cli._commands``) end to end, on temporary files.

Most tests run on a tiny planted problem (TGT = SRC @ R exactly), where every correct
command must recover R; a few slow ones run on the built-in demo sample.
"""

import io
import json
import re

import numpy as np
import pytest
from numpy.testing import assert_allclose

import sklearn_l1align.io as l1io
from sklearn_l1align import StopReason, normalize_embeddings
from sklearn_l1align._progress import progress_enabled
from sklearn_l1align.cli import EXIT_USAGE, _commands, main, output_paths
from sklearn_l1align.datasets import load_demo
from sklearn_l1align.metrics import bli_precision

from _cli_helpers import (
    N_SEED,
    N_SHARED,
    N_WORDS,
    planted_files,
    random_rotation,
    row_relative_error,
    stderr_error,
    write_dictionary,
)

STOP_REASONS = {reason.value for reason in StopReason}
N_DEMO = 1500


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    return planted_files(tmp_path_factory.mktemp("planted"))


def _report(path):
    return json.loads(output_paths(path)["report"].read_text(encoding="utf-8"))


def _argv(*args):
    return [str(a) for a in args]


# ----------------------------------------------------------------------------- align
def test_align_recovers_the_planted_rotation(planted, tmp_path, capsys):
    out = tmp_path / "out.vec"
    status = main(_argv("align", planted["src"], planted["tgt"], "--seed-dict", planted["train"],
                        "-o", out, "--refine", "none", "--eval-dict", planted["test"],
                        "--normalize", "none"))
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "out.mapping.npz", "out.report.json", "out.vec"]
    rotation, metadata = l1io.load_mapping(output_paths(out)["mapping"])
    assert_allclose(rotation, planted["R"], atol=1e-6)
    assert metadata["steps"] == ["l2"] and metadata["normalize"] == []
    words, mapped = l1io.read_word2vec(out)
    assert words == planted["src_words"]
    assert row_relative_error(mapped, planted["X"] @ rotation) < 1e-6

    report = _report(out)
    assert report["command"] == "align" and report["seed"]["kind"] == "dictionary"
    assert report["seed"]["n_kept"] == N_SEED and report["seed"]["n_dropped"] == 0
    (step,) = report["steps"]
    assert step["step"] == "l2" and step["dictionary_sizes"] == [N_SEED]
    bli = step["bli"]
    assert bli["precision"]["nn"]["P@1"] == 1.0 and bli["precision"]["csls"]["P@1"] == 1.0
    assert bli["coverage"]["n_dropped"] == 2 and bli["n_queries"] == N_WORDS - N_SHARED - N_SEED
    assert "seed: dictionary, 120 pairs" in captured.out and "Wrote" in captured.out


def test_align_identical_seeds_from_shared_strings(planted, tmp_path, capsys):
    out = tmp_path / "id.vec"
    status = main(_argv("align", planted["src"], planted["tgt"], "--identical", "-o", out,
                        "--refine", "none", "--normalize", "none"))
    captured = capsys.readouterr()
    assert status == 0, captured.err
    report = _report(out)
    assert report["seed"] == {"kind": "identical", "n_pairs": N_SHARED, "n_kept": N_SHARED,
                              "n_dropped": 0}
    assert report["inputs"]["identical"] is True and report["inputs"]["seed_dict"] is None
    assert f"seed: identical, {N_SHARED} pairs" in captured.out
    rotation, _ = l1io.load_mapping(output_paths(out)["mapping"])
    assert_allclose(rotation, planted["R"], atol=1e-6)  # 40 exact pairs in 12-d suffice


def test_align_identical_without_shared_strings_is_an_input_error(planted, tmp_path, capsys):
    other = tmp_path / "other.vec"
    l1io.write_word2vec(other, [f"x{i}" for i in range(20)], np.eye(20, 12))
    status = main(_argv("align", other, planted["tgt"], "--identical", "-o", tmp_path / "o.vec"))
    assert status == EXIT_USAGE
    assert "--identical" in stderr_error(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.vec"]


def test_l1_dictionary_flags_reach_the_builder(planted, tmp_path, capsys):
    """s2t within the first N rows pairs each of those N source rows once: N pairs."""
    out = tmp_path / "out.vec"
    status = main(_argv("align", planted["src"], planted["tgt"], "--seed-dict", planted["train"],
                        "-o", out, "--no-validation", "--dict-direction", "s2t",
                        "--dict-max-rank", "150", "--dict-k", "4", "--time-budget", "2"))
    assert status == 0, capsys.readouterr().err
    report = _report(out)
    assert report["settings"]["dictionary"] == {"k": 4, "direction": "s2t", "max_rank": 150}
    l1 = report["steps"][1]
    assert l1["step"] == "l1" and l1["dictionary_sizes"] == [150]
    assert l1["dictionary"] == {"k": 4, "direction": "s2t", "max_rank": 150}
    assert l1["stop_reason"] in STOP_REASONS and l1["loss"] <= l1["initial_loss"]
    # The l1 step starts at the planted optimum (loss 0 up to rounding): the map stays R.
    rotation, metadata = l1io.load_mapping(output_paths(out)["mapping"])
    assert metadata["steps"] == ["l2", "l1"]
    assert_allclose(rotation, planted["R"], atol=1e-4)


def test_supervised_align_logs_are_not_misleading(planted, tmp_path, capsys):
    """No 'unsupervised' line for a supervised run; no staging path; the clocks named."""
    out = tmp_path / "out.vec"
    status = main(_argv("align", planted["src"], planted["tgt"], "--seed-dict", planted["train"],
                        "-o", out, "--no-validation", "-vv", "--time-budget", "2"))
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "unsupervised" not in captured.err and "without a seed" not in captured.err
    assert ".partial" not in captured.err + captured.out
    assert str(out) in captured.err  # the final paths are named
    l1 = _report(out)["steps"][1]
    assert "of wall time" in l1["stop"] and l1["stop"] in captured.out


# ----------------------------------------------------------------------------- validation
def test_validation_keeps_l2_when_no_step_can_help(planted, tmp_path, capsys):
    """At the planted optimum no refinement can win on held-out words: l2 on all seeds is kept."""
    out = tmp_path / "out.vec"
    status = main(_argv("align", planted["src"], planted["tgt"], "--seed-dict", planted["train"],
                        "-o", out, "--eval-dict", planted["test"], "--time-budget", "2"))
    captured = capsys.readouterr()
    assert status == 0, captured.err
    report = _report(out)
    validation = report["validation"]
    assert report["settings"]["validation"] == {"fraction": 0.2, "folds": "auto", "max_rank": None,
                                                "random_state": 0, "candidates": "both"}
    assert validation["kept"] == "l2"
    # A 120-word seed: one 20 % split would hold out 24 words, so "auto" runs 5 folds,
    # each fitted on 96 pairs, and every seed word is held out once.
    assert validation["settings"]["validation_folds"] == 5
    assert validation["n_held_out_words"] == validation["n_held_out_pairs"] == N_SEED
    assert validation["n_fit_pairs"] == round(0.8 * N_SEED)
    assert "5 folds of the seed's source words, each held out once" in captured.out
    names = [s["name"] for s in validation["steps"]]
    assert names[0] == "l2" and any(n.startswith("requested[0]") for n in names)
    assert any(n.startswith("paper[") for n in names)
    for step in validation["steps"]:
        assert 0 <= step["held_out_p1"] <= 1 and step["kept"] == (step["candidate"] == "l2")
    assert [s["step"] for s in report["steps"]] == ["l2"]
    rotation, metadata = l1io.load_mapping(output_paths(out)["mapping"])
    assert metadata["steps"] == ["l2"]
    assert_allclose(rotation, planted["R"], atol=1e-6)
    # The summary names each step, its held-out score and the verdict.
    lines = [line for line in captured.out.splitlines() if line.startswith("  ")]
    assert len(lines) == len(names)
    assert "base (kept: no refinement helped)" in lines[0]
    assert all(line.rstrip().endswith("rejected (no gain beyond noise)") for line in lines[1:])
    assert "kept: l2" in captured.out
    # Each step says what it was fitted on, and each ℓ1 step why its solver stopped.
    for step, line in zip(validation["steps"], lines):
        assert step["n_dictionary_pairs"] > 0 and f"[{step['n_dictionary_pairs']} pairs" in line
        is_l1 = "L1ProcrustesAligner" in step["name"]
        assert ("stop_reason" in step) == is_l1
        if is_l1:
            assert step["stop_reason"] in {r.value for r in StopReason}
            assert f"stopped: {step['stop_reason']}" in line


@pytest.fixture(scope="module")
def small_noisy_seed(tmp_path_factory):
    """TGT = SRC @ R + noise and a 30-pair seed: l2 on 15 fit pairs is poor, self-learning is not."""
    folder = tmp_path_factory.mktemp("noisy")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 12))
    Y = X @ random_rotation(12, 1) + 0.6 * rng.normal(size=X.shape)
    src_words, tgt_words = [f"s{i}" for i in range(600)], [f"t{i}" for i in range(600)]
    l1io.write_word2vec(folder / "s.vec", src_words, X)
    l1io.write_word2vec(folder / "t.vec", tgt_words, Y)
    seed = write_dictionary(folder / "seed.txt", list(zip(src_words[:30], tgt_words[:30])))
    test = write_dictionary(folder / "test.txt", list(zip(src_words[300:], tgt_words[300:])))
    return folder / "s.vec", folder / "t.vec", seed, test


def _align_small_seed(small_noisy_seed, out, capsys, *flags):
    """``align`` on the small noisy seed with the paper's chain; (report, captured output)."""
    src, tgt, seed, test = small_noisy_seed
    status = main(_argv("align", src, tgt, "--seed-dict", seed, "-o", out, "--eval-dict", test,
                        "--candidates", "paper", "--time-budget", "2", *flags))
    captured = capsys.readouterr()
    assert status == 0, captured.err
    return _report(out), captured


def test_validation_keeps_a_step_that_helps(small_noisy_seed, tmp_path, capsys):
    out = tmp_path / "out.vec"
    report, captured = _align_small_seed(small_noisy_seed, out, capsys, "--validation-fraction",
                                         "0.5", "--validation-folds", "1")
    validation = report["validation"]
    assert validation["settings"]["validation_folds"] is None
    assert validation["n_held_out_words"] == 15
    assert validation["kept"].startswith("paper[")
    base, best = validation["steps"][0], max(validation["steps"], key=lambda s: s["held_out_p1"])
    assert best["held_out_p1"] > base["held_out_p1"] and best["significant"]
    # The kept map is better on the (disjoint) test words too, and it is what was written.
    l2, kept = report["steps"]
    assert (l2["step"], kept["step"]) == ("l2", validation["kept"])
    assert kept["bli"]["precision"]["csls"]["P@1"] > l2["bli"]["precision"]["csls"]["P@1"]
    rotation, metadata = l1io.load_mapping(output_paths(out)["mapping"])
    assert metadata["steps"] == ["l2", validation["kept"]]
    assert "kept (best)" in captured.out and f"kept: {validation['kept']}" in captured.out


def test_validation_folds_hold_every_seed_word_out_once(small_noisy_seed, tmp_path, capsys):
    out = tmp_path / "out.vec"
    report, captured = _align_small_seed(small_noisy_seed, out, capsys, "--validation-folds", "3")
    validation = report["validation"]
    assert validation["settings"]["validation_folds"] == 3
    assert report["settings"]["validation"]["folds"] == 3
    assert validation["n_held_out_words"] == 30 and validation["n_held_out_pairs"] == 30
    assert validation["n_fit_pairs"] == 20
    assert validation["kept"].startswith("paper[")
    assert "3 folds of the seed's source words, each held out once (30 words" in captured.out
    rotation, metadata = l1io.load_mapping(output_paths(out)["mapping"])
    assert metadata["steps"] == ["l2", validation["kept"]]
    # Progress in a log file: each scored step of each fold is logged as it is scored,
    # with the held-out P@1 of that fold (so not the pooled figure of the report).
    lines = [line for line in captured.err.splitlines() if "held-out CSLS P@1" in line]
    n_steps = len(validation["steps"])
    assert len(lines) == 3 * n_steps + 1  # and the choice
    for fold in (1, 2, 3):
        assert sum(f"fold {fold}/3: " in line for line in lines) == n_steps
    assert f"kept {validation['kept']}" in lines[-1]


def test_quiet_validation_logs_no_steps(small_noisy_seed, tmp_path, capsys):
    report, captured = _align_small_seed(small_noisy_seed, tmp_path / "out.vec", capsys,
                                         "--validation-folds", "3", "-q")
    assert report["validation"]["kept"].startswith("paper[")
    assert captured.err == ""


def test_validation_max_rank_scores_within_the_most_frequent_words(small_noisy_seed, tmp_path,
                                                                     capsys):
    """The seed is rows 0-29: a cap of 20 scores the 20 pairs within it, all 30 still fit."""
    out = tmp_path / "out.vec"
    report, captured = _align_small_seed(small_noisy_seed, out, capsys, "--validation-folds", "3",
                                         "--validation-max-rank", "20")
    validation = report["validation"]
    assert report["settings"]["validation"]["max_rank"] == 20
    assert validation["settings"]["validation_max_rank"] == 20
    assert validation["n_held_out_words"] == validation["n_held_out_pairs"] == 20
    assert validation["n_fit_pairs"] == 20  # the folds' fits still hold two thirds of all 30
    assert "scored within the 20 most frequent words of each space" in captured.out
    assert report["seed"]["n_kept"] == 30


def test_auto_folds_count_the_seed_words_validation_max_rank_leaves(small_noisy_seed, tmp_path,
                                                                    capsys):
    """600 seed words at fraction 0.9 hold out 540 (one split); capped at 300, 270: 5 folds."""
    src, tgt, _, _ = small_noisy_seed
    seed = write_dictionary(tmp_path / "all.txt", [(f"s{i}", f"t{i}") for i in range(600)])
    folds = []
    for cap in ("all", "300"):
        out = tmp_path / f"{cap}.vec"
        status = main(_argv("align", src, tgt, "--seed-dict", seed, "-o", out, "--candidates",
                            "requested", "--time-budget", "0.5", "--validation-fraction", "0.9",
                            "--validation-max-rank", cap, "-q"))
        assert status == 0, capsys.readouterr().err
        validation = _report(out)["validation"]
        folds.append((validation["settings"]["validation_folds"], validation["n_held_out_words"]))
    assert folds == [(None, 540), (5, 300)]


def test_validation_max_rank_below_every_held_out_pair_is_refused(small_noisy_seed, tmp_path,
                                                                  capsys):
    src, tgt, _, test = small_noisy_seed
    late = write_dictionary(tmp_path / "late.txt", [(f"s{i}", f"t{i}") for i in range(100, 130)])
    argv = _argv("align", src, tgt, "--seed-dict", late, "-o", tmp_path / "o.vec",
                 "--validation-max-rank", "50")
    assert main(argv) == 2
    assert "validation_max_rank=50 leaves a held-out set with no pair" in capsys.readouterr().err
    assert not (tmp_path / "o.vec").exists()
    assert main([*argv[:-1], "zero"]) == 2
    assert "must be a positive integer or 'all'" in capsys.readouterr().err


def test_validation_folds_need_as_many_seed_words(planted, tmp_path, capsys):
    two = write_dictionary(tmp_path / "two.txt", [("fr50", "ru50"), ("fr51", "ru51")])
    argv = _argv("align", planted["src"], planted["tgt"], "--seed-dict", two, "-o",
                 tmp_path / "o.vec", "--validation-folds", "3")
    assert main(argv) == 2
    assert "needs at least 3 of them. Got 2 instead" in capsys.readouterr().err
    assert not (tmp_path / "o.vec").exists()


def test_validation_needs_two_seed_words(planted, tmp_path, capsys):
    one = write_dictionary(tmp_path / "one.txt", [("fr50", "ru50"), ("fr50", "ru51")])
    argv = _argv("align", planted["src"], planted["tgt"], "--seed-dict", one, "-o",
                 tmp_path / "o.vec")
    assert main(argv) == EXIT_USAGE
    assert "--no-validation" in stderr_error(capsys)
    assert main([*argv, "--no-validation", "-q", "--refine", "none"]) == 0


def test_no_validation_applies_the_chain_blind(planted, tmp_path, capsys):
    out = tmp_path / "out.vec"
    status = main(_argv("align", planted["src"], planted["tgt"], "--seed-dict", planted["train"],
                        "-o", out, "--no-validation", "--time-budget", "2"))
    assert status == 0, capsys.readouterr().err
    report = _report(out)
    assert "validation" not in report and report["settings"]["validation"] is None
    assert [s["step"] for s in report["steps"]] == ["l2", "l1"]


# ----------------------------------------------------------------------------- refine
def test_refine_writes_consistent_outputs(planted, tmp_path, capsys):
    out = tmp_path / "refined.vec"
    status = main(_argv("refine", planted["src"], planted["tgt"], "-o", out, "--n-refinements", "1",
                        "--eval-dict", planted["test"], "--time-budget", "2", "--dict-k", "5"))
    assert status == 0, capsys.readouterr().err
    report = _report(out)
    (step,) = report["steps"]
    assert step["dictionary"]["k"] == 5 and len(step["rounds"]) == 2
    assert all(r["loss"] <= r["initial_loss"] for r in step["rounds"])
    assert 0 <= report["bli_before"]["precision"]["nn"]["P@1"] <= 1
    rotation, metadata = l1io.load_mapping(output_paths(out)["mapping"])
    assert metadata["command"] == "refine"
    assert np.abs(rotation.T @ rotation - np.eye(rotation.shape[0])).max() < 1e-6
    _, mapped = l1io.read_word2vec(out)
    assert row_relative_error(mapped, planted["X"] @ rotation) < 1e-6


# ----------------------------------------------------------------------------- evaluate
def _table(out):
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("method")).split()
    rows = {line.split()[0]: [float(v) for v in line.split()[1:]]
            for line in lines if line.startswith(("NN", "CSLS"))}
    return header, rows


def test_evaluate_retrieval_and_k_match_bli_precision(planted, tmp_path, capsys):
    """The scores are metrics.bli_precision on the normalised arrays, for the chosen k."""
    # A map that is right for only some words: scores strictly between 0 and 1.
    X = planted["X"].copy()
    X[::3] = np.random.default_rng(5).normal(size=X[::3].shape)
    noisy = tmp_path / "noisy.vec"
    l1io.write_word2vec(noisy, planted["src_words"], X @ planted["R"])
    out_json = tmp_path / "scores.json"
    status = main(_argv("evaluate", noisy, planted["tgt"], "--dict", planted["test"],
                        "--retrieval", "nn", "--k", "3", "1", "--json", out_json))
    captured = capsys.readouterr()
    assert status == 0, captured.err
    header, rows = _table(captured.out)
    assert header == ["method", "P@1", "P@3"] and set(rows) == {"NN"}
    report = json.loads(out_json.read_text(encoding="utf-8"))
    assert set(report["precision"]) == {"nn"} and report["settings"]["k"] == [1, 3]

    src_words, src = l1io.read_word2vec(noisy)
    tgt_words, tgt = l1io.read_word2vec(planted["tgt"])
    pairs, coverage = l1io.dictionary_to_indices(l1io.read_dictionary(planted["test"]),
                                                 src_words, tgt_words)
    expected = bli_precision(normalize_embeddings(src), normalize_embeddings(tgt),
                             pairs, k=(1, 3), method="nn")
    assert 0 < expected.precision[1] < 1
    for k, printed in zip((1, 3), rows["NN"]):
        assert report["precision"]["nn"][f"P@{k}"] == expected.precision[k]
        assert printed == pytest.approx(100 * expected.precision[k], abs=0.05)
    assert report["n_queries"] == expected.n_queries == coverage.n_source_covered
    assert report["coverage"]["n_dropped"] == 2

    # Both retrievals by default, CSLS with its own neighbourhood size.
    assert main(_argv("evaluate", noisy, planted["tgt"], "--dict", planted["test"], "-q",
                      "--csls-k", "3")) == 0
    header, rows = _table(capsys.readouterr().out)
    assert header == ["method", "P@1", "P@5", "P@10"] and set(rows) == {"NN", "CSLS-3"}


# ----------------------------------------------------------------------------- translate
def test_translate_text_gives_the_planted_translation_first(planted, tmp_path, capsys):
    mapped = tmp_path / "mapped.vec"
    l1io.write_word2vec(mapped, planted["src_words"], planted["X"] @ planted["R"])
    status = main(_argv("translate", mapped, planted["tgt"], "fr200", "num3", "nope", "-k", "3"))
    captured = capsys.readouterr()
    assert status == 0, captured.err
    lines = {line.split("\t")[0]: line.split("\t")[1] for line in captured.out.splitlines()
             if "\t" in line}
    assert set(lines) == {"fr200", "num3", "nope"}
    for word, target in (("fr200", "ru200"), ("num3", "num3")):
        found = re.findall(r"(\S+) \((-?[\d.]+)\)", lines[word])
        assert len(found) == 3 and found[0][0] == target
        scores = [float(s) for _, s in found]
        assert scores == sorted(scores, reverse=True)
    assert "not in the source vocabulary" in lines["nope"]
    assert "nope" in captured.err  # warned


def test_translate_json_scores_are_cosines_for_nn(planted, tmp_path, capsys):
    mapped = tmp_path / "mapped.vec"
    l1io.write_word2vec(mapped, planted["src_words"], planted["X"] @ planted["R"])
    words_file = write_dictionary(tmp_path / "words.txt", [])
    words_file.write_text("fr100\nfr101 fr100\n", encoding="utf-8")
    status = main(_argv("translate", mapped, planted["tgt"], "--words-file", words_file,
                        "--retrieval", "nn", "--normalize", "none", "-k", "2", "--json"))
    captured = capsys.readouterr()
    assert status == 0, captured.err
    report = json.loads(captured.out)
    assert list(report["translations"]) == ["fr100", "fr101"] and report["oov"] == []
    assert report["retrieval"] == "nn" and report["csls_k"] is None and report["topn"] == 2
    X, Y = planted["X"] @ planted["R"], planted["Y"]
    for word, found in report["translations"].items():
        i = planted["src_words"].index(word)
        assert found[0]["word"] == planted["tgt_words"][i]
        for entry in found:
            j = planted["tgt_words"].index(entry["word"])
            cosine = X[i] @ Y[j] / np.linalg.norm(X[i]) / np.linalg.norm(Y[j])
            assert entry["score"] == pytest.approx(cosine, abs=1e-5)


def test_translate_stdin_and_json_file(planted, tmp_path, capsys, monkeypatch):
    mapped = tmp_path / "mapped.vec"
    l1io.write_word2vec(mapped, planted["src_words"], planted["X"] @ planted["R"])
    monkeypatch.setattr("sys.stdin", io.StringIO("fr250\n\nfr251\n"))
    out_json = tmp_path / "t.json"
    status = main(_argv("translate", mapped, planted["tgt"], "--words-file", "-",
                        "--json", out_json, "-q"))
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert captured.out == ""
    report = json.loads(out_json.read_text(encoding="utf-8"))
    assert {w: found[0]["word"] for w, found in report["translations"].items()} == {
        "fr250": "ru250", "fr251": "ru251"}


def test_translate_needs_a_known_word(planted, tmp_path, capsys):
    assert main(_argv("translate", planted["src"], planted["tgt"], "zzz", "yyy", "-q")) == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        "l1align: error: At least one word to translate must be in the source vocabulary "
        f"(300 words of {planted['src']}). Got 2, none of them in it (zzz yyy), instead."]
    assert main(_argv("translate", planted["src"], planted["tgt"])) == EXIT_USAGE
    assert "translate needs words" in stderr_error(capsys)


# ----------------------------------------------------------------------------- checks first
def test_every_output_is_checked_before_any_reading(planted, tmp_path, capsys, monkeypatch):
    def must_not_read(*args, **kwargs):
        raise AssertionError("inputs were read before the output paths were checked")

    monkeypatch.setattr(l1io, "read_word2vec", must_not_read)
    monkeypatch.setattr(l1io, "read_dictionary", must_not_read)
    before = sorted(tmp_path.iterdir())
    missing = tmp_path / "missing"
    src, tgt = str(planted["src"]), str(planted["tgt"])
    commands = [
        ["align", src, tgt, "--seed-dict", str(planted["train"]), "-o", str(missing / "o.vec")],
        ["align", src, tgt, "--identical", "-o", str(missing / "o.vec")],
        ["refine", src, tgt, "-o", str(missing / "out.vec")],
        ["evaluate", src, tgt, "--dict", str(planted["test"]), "--json", str(missing / "s.json")],
        ["translate", src, tgt, "fr100", "--json", str(missing / "t.json")],
        ["demo", "-o", str(missing)],
    ]
    for argv in commands:
        assert main(argv) == EXIT_USAGE, argv
        assert "missing" in stderr_error(capsys)
    assert sorted(tmp_path.iterdir()) == before and not missing.exists()


def test_an_output_must_not_overwrite_an_input(planted, capsys):
    status = main(_argv("translate", planted["src"], planted["tgt"], "fr100", "--json",
                        planted["src"]))
    assert status == EXIT_USAGE
    assert "overwrite an input" in stderr_error(capsys)


# ----------------------------------------------------------------------------- progress
def test_commands_run_with_progress_on_unless_quiet(planted, capsys, monkeypatch):
    seen = []
    real = _commands.COMMANDS["evaluate"]

    def spy(args):
        seen.append(progress_enabled())
        return real(args)

    monkeypatch.setitem(_commands.COMMANDS, "evaluate", spy)
    argv = _argv("evaluate", planted["src"], planted["tgt"], "--dict", planted["test"])
    assert main(argv) == 0 and main([*argv, "-q"]) == 0
    assert seen == [True, False]
    assert not progress_enabled()  # and off again after the command


# ----------------------------------------------------------------------------- demo data
@pytest.fixture(scope="module")
def demo_files(tmp_path_factory):
    """1,500 words per language cut from the demo (Russian gzip-compressed)."""
    demo = load_demo()
    folder = tmp_path_factory.mktemp("demo-inputs")
    fr, ru = folder / "fr.vec", folder / "ru.vec.gz"
    l1io.write_word2vec(fr, demo.src_words[:N_DEMO], demo.src_vectors[:N_DEMO])
    l1io.write_word2vec(ru, demo.tgt_words[:N_DEMO], demo.tgt_vectors[:N_DEMO])
    train = write_dictionary(folder / "train.txt", demo.train_dictionary)
    test = write_dictionary(folder / "test.txt", demo.test_dictionary)
    return {"fr": fr, "ru": ru, "train": train, "test": test}


@pytest.mark.slow
def test_align_then_evaluate_scores_what_align_scored(demo_files, tmp_path, capsys):
    out = tmp_path / "fr-ru.vec"
    status = main(_argv("align", demo_files["fr"], demo_files["ru"], "--seed-dict",
                        demo_files["train"], "-o", out, "--eval-dict", demo_files["test"],
                        "--time-budget", "3", "--no-validation"))
    captured = capsys.readouterr()
    assert status == 0, captured.err
    report = _report(out)
    assert [s["step"] for s in report["steps"]] == ["l2", "l1"]
    assert report["settings"]["normalize"] == ["unit", "center", "unit"]
    l1 = report["steps"][1]
    assert l1["solver"]["integrator"] == "cayley" and l1["loss"] <= l1["initial_loss"]
    seed = report["seed"]
    assert 0 < seed["n_kept"] < seed["n_pairs"]
    assert set(report["seconds"]) >= {"read", "fit", "write", "total"}
    # evaluate re-normalises the written file and scores exactly what align scored.
    scores = tmp_path / "scores.json"
    assert main(_argv("evaluate", out, demo_files["ru"], "--dict", demo_files["test"],
                      "--json", scores, "-q")) == 0
    assert json.loads(scores.read_text(encoding="utf-8"))["precision"] == l1["bli"]["precision"]


@pytest.mark.slow
@pytest.mark.parametrize("solver", ["vode", "huber", "admm"])
def test_refine_other_solvers(demo_files, tmp_path, solver):
    out = tmp_path / "refined.vec"
    assert main(_argv("refine", demo_files["fr"], demo_files["ru"], "-o", out, "-q",
                      "--solver", solver, "--time-budget", "1")) == 0
    step = _report(out)["steps"][0]
    assert step["solver"]["name"] == solver and step["loss"] <= step["initial_loss"]


@pytest.mark.slow
def test_demo_prints_table_and_time(tmp_path, capsys):
    status = main(["demo", "-o", str(tmp_path), "-q", "--l2-refinements", "1",
                   "--time-budget", "3"])
    out = capsys.readouterr().out
    assert status == 0
    rows = {}
    for line in out.splitlines():
        match = re.match(r"(l[12] .+?)\s+(\d+)\s+([\d.]+)%\s+([\d.]+)%\s+([\d.]+) s$", line)
        if match:
            rows[match.group(1)] = (float(match.group(3)), float(match.group(4)))
    assert list(rows) == ["l2 Procrustes on the seed pairs", "l2 refinement (1 CSLS round)",
                          "l1 refinement (cayley)"]
    assert all(0 < nn <= 100 and 0 < csls <= 100 for nn, csls in rows.values())
    assert re.search(r"l1 solver: stopped by (\w+)", out).group(1) in STOP_REASONS
    assert re.search(r"Total time: [\d.]+ s", out)
    rotation, _ = l1io.load_mapping(tmp_path / "demo.fr-ru.mapping.npz")
    words, mapped = l1io.read_word2vec(tmp_path / "demo.fr-ru.vec")
    demo = load_demo()
    assert words == demo.src_words
    assert row_relative_error(mapped, demo.src_vectors.astype(np.float64) @ rotation) < 1e-6


def _stderr_on_a_terminal(argv):
    """Run ``python -m sklearn_l1align ARGV`` with stderr on a pseudo-terminal; its text."""
    import os
    import pty
    import subprocess
    import sys

    from _cli_helpers import REPO

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "sklearn_l1align", *map(str, argv)],
                            stdout=subprocess.DEVNULL, stderr=follower, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait(timeout=300) == 0
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.slow
def test_progress_is_drawn_on_a_terminal_only(planted):
    argv = ["evaluate", planted["src"], planted["tgt"], "--dict", planted["test"]]
    on_tty = _stderr_on_a_terminal(argv)
    assert "\r" in on_tty and re.search(r"\d+% \(\d+/\d+\) [\d.]+ s", on_tty)
    assert "\r" not in _stderr_on_a_terminal([*argv, "-q"])
    from _cli_helpers import run_module

    piped = run_module(*argv)
    assert piped.returncode == 0 and "\r" not in piped.stderr


@pytest.mark.slow
def test_commands_do_not_go_through_gensim(planted, tmp_path):
    """align, evaluate and translate on word2vec files never import gensim."""
    import subprocess
    import sys

    from _cli_helpers import REPO

    out = tmp_path / "out.vec"
    runs = [
        ["align", planted["src"], planted["tgt"], "--seed-dict", planted["train"], "-o", out,
         "-q", "--time-budget", "1"],
        ["evaluate", out, planted["tgt"], "--dict", planted["test"], "-q"],
        ["translate", out, planted["tgt"], "fr200", "-q"],
    ]
    code = (
        "import sys\n"
        "from sklearn_l1align.cli import main\n"
        f"for argv in {[[str(a) for a in run] for run in runs]!r}:\n"
        "    assert main(argv) == 0, argv\n"
        "print('gensim' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "False"


# ----------------------------------------------------------------------------- real data
def _first_source_words(path, n_words, out):
    """The pairs of the first ``n_words`` source words of a MUSE dictionary (a smaller seed)."""
    pairs, kept = [], set()
    for source, target in l1io.read_dictionary(path):
        if source in kept or len(kept) < n_words:
            kept.add(source)
            pairs.append((source, target))
    return write_dictionary(out, pairs)


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize("n_seed_words", [5000, 1000])
@pytest.mark.parametrize("pair", ["fr-ru", "ru-fr"])
def test_real_data_validated_align_is_never_worse_than_l2(pair, n_seed_words, tmp_path, capsys):
    """Issue 14: ``align`` with its defaults ends no more than 0.3 CSLS P@1 below l2 alone."""
    from _helpers import SHARED_DATA

    src, tgt = (SHARED_DATA / f"{lang}.vec.gz" for lang in pair.split("-"))
    seed = _first_source_words(SHARED_DATA / f"{pair}.train.txt", n_seed_words,
                               tmp_path / "seed.txt")
    out = tmp_path / "out.vec"
    status = main(_argv("align", src, tgt, "--seed-dict", seed, "-o", out, "-q",
                        "--eval-dict", SHARED_DATA / f"{pair}.test.txt"))
    assert status == 0, capsys.readouterr().err
    report = _report(out)
    l2, final = report["steps"][0], report["steps"][-1]
    assert l2["step"] == "l2"
    l2_p1 = l2["bli"]["precision"]["csls"]["P@1"]
    final_p1 = final["bli"]["precision"]["csls"]["P@1"]
    assert final_p1 >= l2_p1 - 0.003, report["validation"]
