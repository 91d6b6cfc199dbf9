"""The ``l1align`` entry point (``sklearn_l1align.cli``): exit codes, one-line errors, outputs
that move together, logging, ``output_paths``.

The subcommands themselves are tested in ``test_cli_commands.py``, the parser in
``test_cli_parser.py``, the report formatting in ``test_cli_report.py``.
"""

import errno
import json
import os
import signal
from pathlib import Path

import numpy as np
import pytest

import sklearn_l1align.io as l1io
from sklearn_l1align import StiefelFlowSolver, cli
from sklearn_l1align.cli import _commands, main, output_paths

from _cli_helpers import planted_files, run_module, stderr_error, write_dictionary
from _helpers import SHARED_DATA

N_SHARED_DATA_TEST = 1500


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    return planted_files(tmp_path_factory.mktemp("planted"))


def _align(planted, out, *extra):
    return ["align", str(planted["src"]), str(planted["tgt"]), "--seed-dict",
            str(planted["train"]), "-o", str(out), *extra]


def _refine(planted, out, *extra):
    """The l1 flow from the identity: far from the optimum, so it takes many steps."""
    return ["refine", str(planted["src"]), str(planted["tgt"]), "-o", str(out), *extra]


def test_entry_points_are_importable():
    from sklearn_l1align.cli import build_parser

    assert callable(build_parser) and callable(cli.main) and callable(output_paths)
    assert {"main", "output_paths", "build_parser"} <= set(cli.__all__)


@pytest.mark.slow
def test_module_entry_point_runs_a_command(planted, tmp_path):
    out = tmp_path / "out.vec"
    proc = run_module(*_align(planted, out, "--refine", "none"))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    for fragment in ("Reading the source embeddings", "Normalising both spaces", "l2 Procrustes",
                     "Writing"):
        assert fragment in proc.stderr  # progress of the long steps goes to stderr
    assert "Wrote" in proc.stdout  # the summary to stdout
    assert all(path.is_file() for path in output_paths(out).values())


# ----------------------------------------------------------------------------- input errors
MALFORMED = {
    "bad header": ("3 x\n", "line 1"),
    "wrong number of values": ("2 3\nchat 1 2 3\nchien 1 2\n", "line 3"),
    "non-numeric value": ("2 3\nchat 1 2 3\nchien 1 deux 3\n", "line 3"),
    "duplicate word": ("2 3\nchat 1 2 3\nchat 4 5 6\n", "line 3"),
    "undecodable text": (b"2 3\nchat 1 2 3\nchi\xffen 1 2 3\n", "line 3"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_embeddings_give_one_line_error(planted, tmp_path, capsys, case):
    content, where = MALFORMED[case]
    bad = tmp_path / "bad-file.vec"
    bad.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    status = main(["evaluate", str(bad), str(planted["tgt"]), "--dict", str(planted["test"])])
    assert status == cli.EXIT_USAGE
    message = stderr_error(capsys)
    assert "bad-file.vec" in message and where in message


def test_malformed_dictionary_gives_one_line_error(planted, tmp_path, capsys):
    bad = write_dictionary(tmp_path / "bad-dict.txt", [("fr50", "ru50"), ("fr51", "ru51 ru52")])
    status = main(["align", str(planted["src"]), str(planted["tgt"]), "--seed-dict", str(bad),
                   "-o", str(tmp_path / "out.vec")])
    assert status == cli.EXIT_USAGE
    message = stderr_error(capsys)
    assert "bad-dict.txt" in message and "line 2" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad-dict.txt"]


def test_missing_input_and_oov_dictionary(planted, tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "nope.vec"), str(planted["tgt"]),
                 "--dict", str(planted["test"])]) == cli.EXIT_USAGE
    assert "nope.vec" in stderr_error(capsys)
    oov = write_dictionary(tmp_path / "oov.txt", [("zzz", "ююю")])
    assert main(["evaluate", str(planted["src"]), str(planted["tgt"]),
                 "--dict", str(oov)]) == cli.EXIT_USAGE
    assert "all out of vocabulary" in stderr_error(capsys)


def test_dimension_mismatch_is_an_input_error(planted, tmp_path, capsys):
    other = tmp_path / "other.vec"
    l1io.write_word2vec(other, ["fr50", "fr51"], np.eye(2, 5))
    assert main(["evaluate", str(other), str(planted["tgt"]), "--dict",
                 str(planted["test"])]) == cli.EXIT_USAGE
    assert "same dimension" in stderr_error(capsys)


@pytest.mark.slow
def test_malformed_file_in_subprocess(planted, tmp_path):
    bad = tmp_path / "broken.vec"
    bad.write_text("20 12\nchat 1 2\n", encoding="utf-8")
    proc = run_module("evaluate", bad, planted["tgt"], "--dict", planted["test"])
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("l1align: error:") and "broken.vec" in last and "line 2" in last


def test_normalize_none_cannot_be_combined(capsys):
    assert main(["evaluate", "a.vec", "b.vec", "--dict", "d", "--normalize", "none", "unit"]) == 2
    assert "cannot be combined" in stderr_error(capsys)


# ----------------------------------------------------------------------------- outputs
def _previous_outputs(folder):
    paths = output_paths(folder / "out.vec")
    for key, path in paths.items():
        path.write_text(f"previous {key}\n", encoding="utf-8")
    return paths


def _assert_previous_outputs(folder, paths):
    for key, path in paths.items():
        assert path.read_text(encoding="utf-8") == f"previous {key}\n"
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in paths.values())


def test_interrupted_vector_write_leaves_previous_output(planted, tmp_path, capsys, monkeypatch):
    paths = _previous_outputs(tmp_path)

    def interrupted_write(path, words, vectors, **kwargs):
        Path(path).write_text("part of the file\n", encoding="utf-8")
        raise KeyboardInterrupt

    monkeypatch.setattr(l1io, "write_word2vec", interrupted_write)
    status = main(_align(planted, paths["vectors"], "--refine", "none"))
    assert status == cli.EXIT_INTERRUPTED
    err = capsys.readouterr().err
    assert "interrupted" in err and "Traceback" not in err
    _assert_previous_outputs(tmp_path, paths)


def test_interrupt_after_vectors_were_written_leaves_all_previous_outputs(planted, tmp_path,
                                                                         monkeypatch):
    paths = _previous_outputs(tmp_path)

    def interrupted_save(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(l1io, "save_mapping", interrupted_save)
    status = main(_align(planted, paths["vectors"], "--refine", "none", "-q"))
    assert status == cli.EXIT_INTERRUPTED
    _assert_previous_outputs(tmp_path, paths)


def test_ctrl_c_caught_by_the_solver_still_stops_the_command(planted, tmp_path, capsys,
                                                            monkeypatch):
    """The solvers return their best map on Ctrl-C; the command must stop, not write it."""
    paths = _previous_outputs(tmp_path)
    real_solve, calls = StiefelFlowSolver.solve, []

    def solve(self, A, B, initial=None, callback=None):
        def ctrl_c(*args):
            calls.append(1)
            raise KeyboardInterrupt

        return real_solve(self, A, B, initial, ctrl_c)

    monkeypatch.setattr(StiefelFlowSolver, "solve", solve)
    status = main(_refine(planted, paths["vectors"]))
    assert status == cli.EXIT_INTERRUPTED and len(calls) == 1
    err = capsys.readouterr().err
    assert "interrupted" in err and "Traceback" not in err
    _assert_previous_outputs(tmp_path, paths)


def test_ctrl_c_inside_vode_is_an_interrupt(planted, tmp_path, capsys, monkeypatch):
    """SciPy's VODE turns a KeyboardInterrupt in its callback into a ValueError: still exit 130."""
    paths = _previous_outputs(tmp_path)
    real_solve, calls = StiefelFlowSolver.solve, []

    def solve(self, A, B, initial=None, callback=None):
        def sigint(*args):
            calls.append(1)
            if len(calls) == 1:
                os.kill(os.getpid(), signal.SIGINT)

        return real_solve(self, A, B, initial, sigint)

    monkeypatch.setattr(StiefelFlowSolver, "solve", solve)
    status = main(_refine(planted, paths["vectors"], "--solver", "vode"))
    assert status == cli.EXIT_INTERRUPTED
    assert "interrupted" in capsys.readouterr().err
    _assert_previous_outputs(tmp_path, paths)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_disk_error_and_internal_error_exit_1(planted, tmp_path, capsys, monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(l1io, "save_mapping", disk_full)
    status = main(_align(planted, tmp_path / "out.vec", "--refine", "none", "-q"))
    assert status == cli.EXIT_FAILURE
    assert "No space left" in stderr_error(capsys)
    assert list(tmp_path.iterdir()) == []

    def boom(args):
        raise RuntimeError("boom")

    monkeypatch.setitem(_commands.COMMANDS, "evaluate", boom)
    assert main(["evaluate", "a.vec", "b.vec", "--dict", "d.txt"]) == cli.EXIT_FAILURE
    assert "internal error (RuntimeError): boom" in stderr_error(capsys)


def test_output_paths():
    assert {k: p.name for k, p in output_paths("x/fr.bin.gz").items()} == {
        "vectors": "fr.bin.gz", "mapping": "fr.mapping.npz", "report": "fr.report.json"}
    assert output_paths("out")["mapping"].name == "out.mapping.npz"
    assert output_paths(".vec")["report"].name == ".vec.report.json"
    assert output_paths("a/b.txt")["report"] == Path("a/b.report.json")


# ----------------------------------------------------------------------------- logging
def test_logging_levels_and_cleanup(planted, tmp_path, capsys):
    import logging

    package = logging.getLogger("sklearn_l1align")
    before = (package.level, list(package.handlers), logging.getLogger("sklearn_l1align.cli").level)
    argv = ["evaluate", str(planted["src"]), str(planted["tgt"]), "--dict", str(planted["test"])]
    assert main(argv) == 0
    default = capsys.readouterr().err
    assert "Reading the source embeddings" in default  # the command's own steps
    assert main([*argv, "-v"]) == 0
    verbose = capsys.readouterr().err
    assert "Read 300 vectors" not in default and "Read 300 vectors" in verbose  # the reader's
    assert main([*argv, "-q"]) == 0
    assert capsys.readouterr().err == ""
    assert before == (package.level, list(package.handlers),
                      logging.getLogger("sklearn_l1align.cli").level)


def test_staging_paths_never_reach_the_log(planted, tmp_path, capsys):
    out = tmp_path / "out.vec"
    assert main(_align(planted, out, "--refine", "none", "-vv")) == 0
    captured = capsys.readouterr()
    assert ".partial" not in captured.err + captured.out
    report = json.loads(output_paths(out)["report"].read_text(encoding="utf-8"))
    assert ".partial" not in json.dumps(report)


# ----------------------------------------------------------------------------- real data
@pytest.mark.realdata
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
    assert report["coverage"]["coverage"] == 1.0
    assert report["n_queries"] == N_SHARED_DATA_TEST
