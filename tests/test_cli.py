"""End-to-end tests of the ``l1align`` command (``sklearn_l1align.cli``) on temporary files."""

import errno
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

import sklearn_l1align.io as l1io
from sklearn_l1align import StopReason, normalize_embeddings
from sklearn_l1align import cli
from sklearn_l1align.cli import main, output_paths
from sklearn_l1align.datasets import load_demo
from sklearn_l1align.gensim import (
    dictionary_to_pairs,
    evaluate_bli,
    keyed_vectors_from_arrays,
    normalize_keyed_vectors,
    read_keyed_vectors,
    write_keyed_vectors,
)

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
N_SMALL = 1500
STOP_REASONS = {reason.value for reason in StopReason}


def _run_module(*args, cwd=None):
    """``python -m sklearn_l1align ARGS`` in a fresh process, importing this checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "sklearn_l1align", *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def _write_dictionary(path, pairs):
    path.write_text("".join(f"{s} {t}\n" for s, t in pairs), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Small inputs cut from the demo: 1,500 words per language (Russian gzip-compressed)."""
    demo = load_demo()
    folder = tmp_path_factory.mktemp("inputs")
    fr, ru = folder / "fr.vec", folder / "ru.vec.gz"
    write_keyed_vectors(keyed_vectors_from_arrays(demo.src_words[:N_SMALL], demo.src_vectors[:N_SMALL]), fr)
    write_keyed_vectors(keyed_vectors_from_arrays(demo.tgt_words[:N_SMALL], demo.tgt_vectors[:N_SMALL]), ru)
    train = _write_dictionary(folder / "train.txt", demo.train_dictionary)
    test = _write_dictionary(folder / "test.txt", demo.test_dictionary)
    return {"fr": fr, "ru": ru, "train": train, "test": test, "demo": demo}


@pytest.fixture(scope="module")
def aligned(files, tmp_path_factory):
    """``l1align align ... --refine none`` run once in a subprocess: (process, output paths)."""
    folder = tmp_path_factory.mktemp("aligned")
    out = folder / "fr-ru.vec"
    proc = _run_module("align", files["fr"], files["ru"], "--seed-dict", files["train"],
                       "-o", out, "--refine", "none")
    return proc, output_paths(out)


def _stderr_error(capsys):
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("l1align: error:")]
    assert len(errors) == 1, err
    assert "Traceback" not in err
    return errors[0]


def _row_relative_error(actual, expected):
    return (np.linalg.norm(actual - expected, axis=1) / np.linalg.norm(expected, axis=1)).max()


# ----------------------------------------------------------------------------- align
def test_align_end_to_end(files, tmp_path, capsys):
    out = tmp_path / "fr-ru.vec"
    status = main(["align", str(files["fr"]), str(files["ru"]), "--seed-dict", str(files["train"]),
                   "-o", str(out), "--eval-dict", str(files["test"]), "--time-budget", "3"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "fr-ru.mapping.npz", "fr-ru.report.json", "fr-ru.vec"]
    assert "Wrote" in captured.out and "stopped by" in captured.out
    assert "Reading the source embeddings" in captured.err

    report = json.loads((tmp_path / "fr-ru.report.json").read_text(encoding="utf-8"))
    assert report["command"] == "align"
    assert report["settings"]["refine"] == "l1" and report["settings"]["solver"] == "cayley"
    assert report["settings"]["normalize"] == ["unit", "center", "unit"]
    assert [s["step"] for s in report["steps"]] == ["l2", "l1"]
    l1 = report["steps"][1]
    assert l1["stop_reason"] in STOP_REASONS
    assert l1["loss"] <= l1["initial_loss"]
    assert l1["solver"]["integrator"] == "cayley"
    for step in report["steps"]:
        assert 0 < step["bli"]["precision"]["csls"]["P@1"] <= 1
    seed = report["seed_dictionary"]
    assert 0 < seed["n_kept"] < seed["n_pairs"] and seed["n_dropped"] == seed["n_pairs"] - seed["n_kept"]
    assert set(report["seconds"]) >= {"read", "fit", "write", "total"}

    # The written vectors are the source as read, mapped by the saved rotation.
    rotation, metadata = l1io.load_mapping(tmp_path / "fr-ru.mapping.npz")
    assert metadata["steps"] == ["l2", "l1"] and metadata["normalize"] == ["unit", "center", "unit"]
    fr = read_keyed_vectors(files["fr"])
    mapped = read_keyed_vectors(out)
    assert mapped.index_to_key == fr.index_to_key
    assert _row_relative_error(mapped.vectors, fr.vectors.astype(np.float64) @ rotation) < 1e-6

    # evaluate re-normalises the written file and scores exactly what align scored.
    scores = tmp_path / "scores.json"
    assert main(["evaluate", str(out), str(files["ru"]), "--dict", str(files["test"]),
                 "--json", str(scores), "-q"]) == 0
    evaluated = json.loads(scores.read_text(encoding="utf-8"))
    assert evaluated["precision"] == l1["bli"]["precision"]
    scores.unlink()


def test_align_via_subprocess(aligned):
    proc, paths = aligned
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    # Progress on the long steps goes to stderr; the summary to stdout.
    for fragment in ("Reading the source embeddings", "Normalising both spaces", "l2 Procrustes",
                     "Writing"):
        assert fragment in proc.stderr
    assert "Wrote" in proc.stdout
    report = json.loads(paths["report"].read_text(encoding="utf-8"))
    assert [s["step"] for s in report["steps"]] == ["l2"]
    assert report["settings"]["refine"] == "none"
    rotation, metadata = l1io.load_mapping(paths["mapping"])
    assert metadata["steps"] == ["l2"] and rotation.shape == (300, 300)


# ----------------------------------------------------------------------------- refine
def test_refine_end_to_end(files, aligned, tmp_path, capsys):
    _, paths = aligned
    out = tmp_path / "refined.vec"
    status = main(["refine", str(paths["vectors"]), str(files["ru"]), "-o", str(out),
                   "--n-refinements", "1", "--eval-dict", str(files["test"]), "-v",
                   "--time-budget", "2"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    report = json.loads((tmp_path / "refined.report.json").read_text(encoding="utf-8"))
    assert report["command"] == "refine"
    (step,) = report["steps"]
    assert len(step["rounds"]) == 2 and len(step["dictionary_sizes"]) == 2
    assert step["stop_reason"] in STOP_REASONS
    assert all(r["loss"] <= r["initial_loss"] for r in step["rounds"])
    assert 0 < report["bli_before"]["precision"]["nn"]["P@1"] <= 1
    rotation, metadata = l1io.load_mapping(tmp_path / "refined.mapping.npz")
    assert metadata["command"] == "refine"
    assert np.abs(rotation.T @ rotation - np.eye(300)).max() < 1e-6
    source = read_keyed_vectors(paths["vectors"])
    refined = read_keyed_vectors(out)
    assert _row_relative_error(refined.vectors, source.vectors.astype(np.float64) @ rotation) < 1e-6
    assert "l1 round" in captured.err  # -v shows the estimator's own progress


@pytest.mark.parametrize("solver", ["vode", "huber"])
def test_refine_other_solvers(files, aligned, tmp_path, solver):
    _, paths = aligned
    out = tmp_path / "refined.vec"
    assert main(["refine", str(paths["vectors"]), str(files["ru"]), "-o", str(out), "-q",
                 "--solver", solver, "--time-budget", "1"]) == 0
    report = json.loads((tmp_path / "refined.report.json").read_text(encoding="utf-8"))
    assert report["steps"][0]["solver"]["name"] == solver
    assert report["steps"][0]["loss"] <= report["steps"][0]["initial_loss"]


# ----------------------------------------------------------------------------- evaluate
def test_evaluate_table_and_json(files, aligned, tmp_path, capsys):
    _, paths = aligned
    out_json = tmp_path / "scores.json"
    status = main(["evaluate", str(paths["vectors"]), str(files["ru"]), "--dict", str(files["test"]),
                   "--json", str(out_json)])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    lines = captured.out.splitlines()
    header = next(line for line in lines if line.startswith("method"))
    assert header.split() == ["method", "P@1", "P@5", "P@10"]
    table = {line.split()[0]: [float(v) for v in line.split()[1:]]
             for line in lines if line.startswith(("NN", "CSLS-10"))}
    assert set(table) == {"NN", "CSLS-10"}
    assert "coverage" in lines[0] and "dropped" in lines[0]
    assert "MUSE" in captured.out

    # Same numbers as the library on the same (normalised) inputs.
    src = normalize_keyed_vectors(read_keyed_vectors(paths["vectors"]))
    tgt = normalize_keyed_vectors(read_keyed_vectors(files["ru"]))
    expected = evaluate_bli(src, tgt, files["test"])
    report = json.loads(out_json.read_text(encoding="utf-8"))
    for method, name in (("nn", "NN"), ("csls", "CSLS-10")):
        for k, printed in zip((1, 5, 10), table[name]):
            assert report["precision"][method][f"P@{k}"] == pytest.approx(expected["precision"][method][k])
            assert printed == pytest.approx(100 * expected["precision"][method][k], abs=0.05)
    _, coverage = dictionary_to_pairs(files["test"], src, tgt)
    assert report["coverage"]["coverage"] == pytest.approx(coverage.coverage)
    assert 0 < coverage.coverage < 1  # the 1,500-word cut drops some test pairs
    assert report["n_queries"] == coverage.n_source_covered
    assert "dropped" in report["convention"]


def test_normalisation_commutes_with_rotations_but_is_not_idempotent():
    """Why the CLI writes ``SRC @ M`` rather than ``normalise(SRC) @ M``."""
    demo = load_demo()
    X = demo.src_vectors[:2000].astype(np.float64)
    R = np.linalg.qr(np.random.default_rng(0).normal(size=(300, 300)))[0]
    # normalise(X @ M) == normalise(X) @ M: re-reading an output re-creates the fitted space...
    assert_allclose(normalize_embeddings(X @ R), normalize_embeddings(X) @ R, atol=1e-12)
    # ...whereas normalising an already normalised space moves it (centring, then rescaling).
    once = normalize_embeddings(X)
    assert np.abs(normalize_embeddings(once) - once).max() > 1e-3


# ----------------------------------------------------------------------------- demo
def test_demo_prints_table_and_time(tmp_path, capsys):
    # One ℓ2 refinement round and a time budget keep the test short; the defaults
    # (5 rounds, no budget) run the same code.
    status = main(["demo", "-o", str(tmp_path), "-q", "--l2-refinements", "1", "--time-budget", "3"])
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
    assert "NN P@1" in out and "CSLS-10 P@1" in out and "l1 minus l2" in out
    assert re.search(r"l1 solver: stopped by (\w+)", out).group(1) in STOP_REASONS
    assert re.search(r"Total time: [\d.]+ s", out)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "demo.fr-ru.mapping.npz", "demo.fr-ru.report.json", "demo.fr-ru.vec"]
    # The saved mapping reproduces the saved vectors from the demo's raw French vectors.
    rotation, _ = l1io.load_mapping(tmp_path / "demo.fr-ru.mapping.npz")
    mapped = read_keyed_vectors(tmp_path / "demo.fr-ru.vec")
    demo = load_demo()
    assert mapped.index_to_key == demo.src_words
    assert _row_relative_error(mapped.vectors, demo.src_vectors.astype(np.float64) @ rotation) < 1e-6


# ----------------------------------------------------------------------------- errors
MALFORMED = {
    "bad header": ("3 x\n", "line 1"),
    "wrong number of values": ("2 3\nchat 1 2 3\nchien 1 2\n", "line 3"),
    "non-numeric value": ("2 3\nchat 1 2 3\nchien 1 deux 3\n", "line 3"),
    "duplicate word": ("2 3\nchat 1 2 3\nchat 4 5 6\n", "line 3"),
    "undecodable text": (b"2 3\nchat 1 2 3\nchi\xffen 1 2 3\n", "line 3"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_embeddings_give_one_line_error(files, tmp_path, capsys, case):
    content, where = MALFORMED[case]
    bad = tmp_path / "bad-file.vec"
    bad.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    status = main(["evaluate", str(bad), str(files["ru"]), "--dict", str(files["test"])])
    assert status == cli.EXIT_USAGE
    message = _stderr_error(capsys)
    assert "bad-file.vec" in message and where in message


def test_malformed_dictionary_gives_one_line_error(files, tmp_path, capsys):
    bad = _write_dictionary(tmp_path / "bad-dict.txt", [("chat", "кот"), ("chien", "собака пёс")])
    status = main(["align", str(files["fr"]), str(files["ru"]), "--seed-dict", str(bad),
                   "-o", str(tmp_path / "out.vec")])
    assert status == cli.EXIT_USAGE
    message = _stderr_error(capsys)
    assert "bad-dict.txt" in message and "line 2" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad-dict.txt"]


def test_missing_input_and_oov_dictionary(files, tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "nope.vec"), str(files["ru"]),
                 "--dict", str(files["test"])]) == cli.EXIT_USAGE
    assert "nope.vec" in _stderr_error(capsys)
    oov = _write_dictionary(tmp_path / "oov.txt", [("zzz", "ююю")])
    assert main(["evaluate", str(files["fr"]), str(files["ru"]), "--dict", str(oov)]) == cli.EXIT_USAGE
    assert "all out of vocabulary" in _stderr_error(capsys)


def test_malformed_file_in_subprocess(files, tmp_path):
    bad = tmp_path / "broken.vec"
    bad.write_text("20 300\nchat 1 2\n", encoding="utf-8")
    proc = _run_module("evaluate", bad, files["ru"], "--dict", files["test"])
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("l1align: error:") and "broken.vec" in last and "line 2" in last


def test_missing_output_folder_fails_first_and_creates_nothing(files, tmp_path, capsys, monkeypatch):
    def must_not_read(*args, **kwargs):
        raise AssertionError("inputs were read before the output folder was checked")

    monkeypatch.setattr(cli, "read_keyed_vectors", must_not_read)
    before = sorted(tmp_path.iterdir())
    missing = tmp_path / "missing"
    commands = [
        ["align", str(files["fr"]), str(files["ru"]), "--seed-dict", str(files["train"]),
         "-o", str(missing / "out.vec")],
        ["refine", str(files["fr"]), str(files["ru"]), "-o", str(missing / "out.vec")],
        ["evaluate", str(files["fr"]), str(files["ru"]), "--dict", str(files["test"]),
         "--json", str(missing / "scores.json")],
        ["demo", "-o", str(missing)],
    ]
    for argv in commands:
        assert main(argv) == cli.EXIT_USAGE
        assert "missing" in _stderr_error(capsys)
    assert sorted(tmp_path.iterdir()) == before and not missing.exists()


def test_output_must_not_overwrite_an_input(files, capsys):
    status = main(["refine", str(files["fr"]), str(files["ru"]), "-o", str(files["fr"])])
    assert status == cli.EXIT_USAGE
    assert "overwrite an input" in _stderr_error(capsys)


def _previous_outputs(folder):
    paths = output_paths(folder / "out.vec")
    for key, path in paths.items():
        path.write_text(f"previous {key}\n", encoding="utf-8")
    return paths


def _assert_previous_outputs(folder, paths):
    for key, path in paths.items():
        assert path.read_text(encoding="utf-8") == f"previous {key}\n"
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in paths.values())


def test_interrupted_vector_write_leaves_previous_output(files, tmp_path, capsys, monkeypatch):
    paths = _previous_outputs(tmp_path)
    real_rows = l1io._text_rows

    def interrupted_rows(words, vectors):
        rows = real_rows(words, vectors)
        yield next(rows)  # part of the file is written, then Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(l1io, "_text_rows", interrupted_rows)
    status = main(["align", str(files["fr"]), str(files["ru"]), "--seed-dict", str(files["train"]),
                   "-o", str(paths["vectors"]), "--refine", "none"])
    assert status == cli.EXIT_INTERRUPTED
    err = capsys.readouterr().err
    assert "interrupted" in err and "Traceback" not in err
    _assert_previous_outputs(tmp_path, paths)


def test_interrupt_after_vectors_were_written_leaves_all_previous_outputs(files, tmp_path, capsys,
                                                                         monkeypatch):
    paths = _previous_outputs(tmp_path)

    def interrupted_save(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(l1io, "save_mapping", interrupted_save)
    status = main(["align", str(files["fr"]), str(files["ru"]), "--seed-dict", str(files["train"]),
                   "-o", str(paths["vectors"]), "--refine", "none", "-q"])
    assert status == cli.EXIT_INTERRUPTED
    _assert_previous_outputs(tmp_path, paths)


def test_ctrl_c_caught_by_the_solver_still_stops_the_command(files, tmp_path, capsys, monkeypatch):
    """The solvers return their best map on Ctrl-C; the command must stop, not write it."""
    import sklearn_l1align._solvers as solvers

    paths = _previous_outputs(tmp_path)
    real_step, calls = solvers.cayley_step, []

    def interrupted_step(*args):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_step(*args)

    monkeypatch.setattr(solvers, "cayley_step", interrupted_step)
    status = main(["align", str(files["fr"]), str(files["ru"]), "--seed-dict", str(files["train"]),
                   "-o", str(paths["vectors"])])
    assert status == cli.EXIT_INTERRUPTED
    err = capsys.readouterr().err
    assert "interrupted" in err and "Traceback" not in err
    _assert_previous_outputs(tmp_path, paths)


@pytest.mark.skipif(signal.getsignal(signal.SIGINT) is not signal.default_int_handler,
                    reason="SIGINT is not handled by Python's default handler here")
def test_ctrl_c_inside_vode_is_an_interrupt(files, tmp_path, capsys, monkeypatch):
    """SciPy's VODE turns a KeyboardInterrupt in its callback into a ValueError: still exit 130."""
    import sklearn_l1align._solvers as solvers

    paths = _previous_outputs(tmp_path)
    real_gradient, calls = solvers.smoothed_gradient, []

    def gradient_then_ctrl_c(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return real_gradient(*args, **kwargs)

    monkeypatch.setattr(solvers, "smoothed_gradient", gradient_then_ctrl_c)
    status = main(["align", str(files["fr"]), str(files["ru"]), "--seed-dict", str(files["train"]),
                   "-o", str(paths["vectors"]), "--solver", "vode"])
    assert status == cli.EXIT_INTERRUPTED
    assert "interrupted" in capsys.readouterr().err
    _assert_previous_outputs(tmp_path, paths)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_disk_error_and_internal_error_exit_1(files, tmp_path, capsys, monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(l1io, "save_mapping", disk_full)
    status = main(["align", str(files["fr"]), str(files["ru"]), "--seed-dict", str(files["train"]),
                   "-o", str(tmp_path / "out.vec"), "--refine", "none", "-q"])
    assert status == cli.EXIT_FAILURE
    assert "No space left" in _stderr_error(capsys)
    assert list(tmp_path.iterdir()) == []

    def boom(args):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "_cmd_evaluate", boom)
    assert main(["evaluate", "a.vec", "b.vec", "--dict", "d.txt"]) == cli.EXIT_FAILURE
    assert "internal error (RuntimeError): boom" in _stderr_error(capsys)


@pytest.mark.parametrize("argv", [
    [],
    ["align", "a.vec", "b.vec"],
    ["align", "a.vec", "b.vec", "--seed-dict", "d", "-o", "o.vec", "--solver", "sgd"],
    ["evaluate", "a.vec", "b.vec", "--dict", "d", "--max-vocab", "0"],
    ["evaluate", "a.vec", "b.vec", "--dict", "d", "--normalize", "none", "unit"],
    ["evaluate", "a.vec", "b.vec", "--dict", "d", "--normalize", "unitdim"],
    ["refine", "a.vec", "b.vec", "-o", "o.vec", "--time-budget", "-1"],
])
def test_usage_errors_exit_2(argv, capsys):
    assert main(argv) == cli.EXIT_USAGE
    assert "error:" in capsys.readouterr().err


def test_version_and_help(capsys):
    assert main(["--version"]) == 0
    assert "l1align" in capsys.readouterr().out
    assert main(["demo", "--help"]) == 0
    assert "--solver" in capsys.readouterr().out


def test_output_paths():
    assert {k: p.name for k, p in output_paths("x/fr.bin.gz").items()} == {
        "vectors": "fr.bin.gz", "mapping": "fr.mapping.npz", "report": "fr.report.json"}
    assert output_paths("out")["mapping"].name == "out.mapping.npz"
    assert output_paths(".vec")["report"].name == ".vec.report.json"


# ----------------------------------------------------------------------------- real data
@pytest.mark.realdata
@pytest.mark.skipif(not (SHARED_DATA / "fr.vec.gz").is_file(), reason=f"{SHARED_DATA} is absent")
def test_real_data_reproduces_l2_reference(tmp_path, capsys):
    out = tmp_path / "out.vec"
    status = main(["align", str(SHARED_DATA / "fr.vec.gz"), str(SHARED_DATA / "ru.vec.gz"),
                   "--seed-dict", str(SHARED_DATA / "fr-ru.train.txt"), "-o", str(out),
                   "--refine", "none", "-q"])
    assert status == 0, capsys.readouterr().err
    scores = tmp_path / "r.json"
    status = main(["evaluate", str(out), str(SHARED_DATA / "ru.vec.gz"),
                   "--dict", str(SHARED_DATA / "fr-ru.test.txt"), "--json", str(scores), "-q"])
    assert status == 0, capsys.readouterr().err
    report = json.loads(scores.read_text(encoding="utf-8"))
    # The reference numbers of ../shared/data/README.md (ℓ2 Procrustes, fr→ru).
    assert report["precision"]["csls"]["P@1"] == pytest.approx(0.451, abs=0.005)
    assert report["precision"]["nn"]["P@1"] == pytest.approx(0.374, abs=0.005)
    assert report["coverage"]["coverage"] == 1.0 and report["n_queries"] == 1500
