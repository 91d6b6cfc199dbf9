"""Bad input: every case of ``docs/bad_input.rst``, one test each, from the table below.

``CASES`` is the table of the docs page: what is wrong, where it goes in, the error
type, and what the message says. Each error case asserts the type and the message
fragment, and that the case's folder (its input files, and any earlier outputs) is byte
for byte what it was, with nothing added: no output file is created or overwritten,
and no temporary file is left. "Accepted" cases assert the documented result instead.
CLI cases run ``sklearn_l1align.cli.main`` and assert exit status 2 and a single
``l1align: error: ...`` line on stderr.

``python tests/test_bad_input.py`` prints the table in reStructuredText, as the docs hold it.
"""

import gzip
import re
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_l1align import (
    CSLSDictionaryBuilder,
    EmbeddingNormalizer,
    ADMMSolver,
    HuberContinuationSolver,
    L1ProcrustesAligner,
    ProcrustesAligner,
    RiemannianSubgradientSolver,
    StiefelFlowSolver,
    normalize_embeddings,
)
from sklearn_l1align import _neighbors
from sklearn_l1align import io as l1io
from sklearn_l1align.io import EmbeddingFormatError
from sklearn_l1align.metrics import bli_precision

#: Several cases fit ProcrustesAligner() on paired rows without pairs=, which warns by design
#: (``_warns_naming_pairs`` below and tests/test_procrustes.py assert it with pytest.warns,
#: which this filter does not hide); elsewhere here it is noise.
pytestmark = pytest.mark.filterwarnings("ignore:ProcrustesAligner got no pairs:UserWarning")

REPO = Path(__file__).resolve().parents[1]
DOCS_PAGE = REPO / "docs" / "bad_input.rst"
TABLE_START = ".. bad-input-table-start"
TABLE_END = ".. bad-input-table-end"

RNG = np.random.default_rng(0)
X = RNG.normal(size=(10, 4))
Y = RNG.normal(size=(10, 4))
PAIRS = np.column_stack([np.arange(10), np.arange(10)])


def _with(array, row, col, value):
    out = np.array(array, dtype=np.result_type(array, type(value)))
    out[row, col] = value
    return out


def _not_orthogonal():
    M = np.eye(4)
    M[0, 0] = 1.1  # max|MᵀM − I| = 0.21
    return M


@dataclass
class Case:
    """One row of the table, and how to run it."""

    id: str
    case: str
    where: str
    error: str  # exception name, "accepted", or "exit status 2"
    says: str  # message fragment (literal), or the accepted result in words
    make: Callable  # make(folder, monkeypatch) -> act; act() raises, returns, or is the CLI argv
    check: Optional[Callable] = field(default=None)  # accepted: check(result)
    names_line: Optional[int] = None  # file errors: the line EmbeddingFormatError names


def _act(fn, *args, **kwargs):
    return lambda folder, monkeypatch: (lambda: fn(*args, **kwargs))


# ----------------------------------------------------------------------------- files
def _file(name, data):
    """A case maker writing ``data`` (bytes) to ``name`` and calling ``fn(path)``."""

    def wrap(fn):
        def make(folder, monkeypatch):
            path = folder / name
            if name.endswith(".gz"):
                data_ = gzip.compress(data, mtime=0)[:-12]  # cut: no CRC, no length
            else:
                data_ = data
            path.write_bytes(data_)
            return lambda: fn(path)

        return make

    return wrap


def _read_vec(data, name="emb.vec"):
    return _file(name, data)(l1io.read_word2vec)


def _read_dict(data):
    return _file("dict.txt", data)(l1io.read_dictionary)


def _keyed(data):
    def read(path):
        from sklearn_l1align.gensim import read_keyed_vectors

        return read_keyed_vectors(path)

    return _file("emb.vec", data)(read)


# --------------------------------------------------------------------------- outputs
def _missing_folder(fn):
    def make(folder, monkeypatch):
        return lambda: fn(folder / "no_such_folder" / "out")

    return make


def _over_existing(name, write_good, write_bad):
    """Write a good file first (part of the 'before' state), then a bad write over it."""

    def make(folder, monkeypatch):
        path = folder / name
        write_good(path)
        return lambda: write_bad(path)

    return make


def _write_keyed(path):
    from sklearn_l1align.gensim import keyed_vectors_from_arrays, write_keyed_vectors

    write_keyed_vectors(keyed_vectors_from_arrays(["a", "b"], np.eye(2)), path)


# ------------------------------------------------------------------------ dictionaries
def _oov_dictionary(folder, monkeypatch):
    from sklearn_l1align.gensim import dictionary_to_pairs, keyed_vectors_from_arrays

    fr = keyed_vectors_from_arrays(["chat", "chien"], np.eye(2))
    ru = keyed_vectors_from_arrays(["кот", "собака"], np.eye(2))
    return lambda: dictionary_to_pairs([("roi", "король"), ("chat", "пёс")], fr, ru)


def _no_mutual(through_fit):
    """Crossed S2T and T2S argmaxes, which exact arithmetic cannot produce (see the docs)."""

    def make(folder, monkeypatch):
        monkeypatch.setattr(_neighbors, "csls_both_ways",
                            lambda Xs, Xt, k, batch_size, **kwargs: (np.array([1, 0]), np.array([0, 1])))
        X2, Y2 = np.eye(2), np.eye(2)
        if through_fit:
            return lambda: L1ProcrustesAligner(dictionary=CSLSDictionaryBuilder()).fit(X2, Y2)
        return lambda: CSLSDictionaryBuilder().build(X2, Y2)

    return make


# ------------------------------------------------------------------------ accepted
def _check_single_row(aligner):
    # One pair: any orthogonal M taking a's direction to b's minimises ||aM − b||; the SVD gives one.
    M = aligner.rotation_
    assert_allclose(M.T @ M, np.eye(4), atol=1e-12)
    a, b = X[0], Y[0]
    assert_allclose(a @ M, np.linalg.norm(a) / np.linalg.norm(b) * b, atol=1e-12)


def _check_single_row_l1(aligner):
    assert_array_equal(aligner.dictionary_, [[0, 0]])
    assert aligner.solver_result_.orthogonality_error <= 1e-12
    assert aligner.solver_result_.loss <= aligner.solver_result_.initial_loss


X_ZERO = _with(_with(X, 1, slice(None), 0.0), 4, slice(None), 0.0)
Y_ZERO = _with(Y, 2, slice(None), 0.0)


def _check_unit_keeps_zero_rows(Xn):
    assert_array_equal(Xn[[1, 4]], 0.0)
    assert_allclose(np.linalg.norm(np.delete(Xn, [1, 4], axis=0), axis=1), 1.0)


def _check_zero_rows_dictionary(pairs):
    assert pairs.shape[1] == 2 and len(pairs) > 0
    # A zero row scores 0 − r_T − r_S against everything (r = 0 for it): never NaN.


def _check_zero_rows_bli(result):
    assert all(np.isfinite(list(result.precision.values())))
    assert not result.hits[1][0]  # the zero source row retrieves nothing useful (and no NaN)


def _check_float64(aligner):
    assert aligner.rotation_.dtype == np.float64
    assert_allclose(aligner.rotation_.T @ aligner.rotation_, np.eye(4), atol=1e-12)


def _fit_float16():
    aligner = ProcrustesAligner().fit(X.astype(np.float16), Y.astype(np.float16))
    assert aligner.transform(X.astype(np.float16)).dtype == np.float64
    return aligner


def _normalize_zero_rows_default():
    Xn = normalize_embeddings(X_ZERO)
    # Centring moves the zero rows off zero (to minus the mean), as in VecMap; no NaN.
    assert np.isfinite(Xn).all()
    return normalize_embeddings(X_ZERO, steps=("unit",))


# ------------------------------------------------------------------------ metrics, gensim
def _mcnemar_many():
    from sklearn_l1align.metrics import mcnemar_test

    hits = np.zeros(5_000, dtype=bool)
    hits[:1_900] = True  # 1,900 queries only system A gets, 2,100 only B gets, 1,000 neither
    other = np.zeros(5_000, dtype=bool)
    other[1_900:4_000] = True
    return mcnemar_test(hits, other)


def _check_mcnemar_many(p):
    from scipy.stats import binomtest

    assert p == pytest.approx(binomtest(1_900, 4_000, 0.5).pvalue, rel=1e-12)
    assert 0.0 < p < 0.01


def _normalize_scaled(scale):
    X32 = (X * scale).astype(np.float32)
    X32[3] = 0.0
    return X32, normalize_embeddings(X32, steps=("unit",))


def _check_unit_rows_of_x(result):
    X32, Xn = result
    assert_array_equal(Xn[3], 0.0)
    rest = np.delete(np.arange(len(X)), 3)
    assert_allclose(np.linalg.norm(Xn[rest].astype(np.float64), axis=1), 1.0, atol=1e-6)
    assert_allclose(Xn[rest], X[rest] / np.linalg.norm(X[rest], axis=1, keepdims=True), atol=1e-6)


def _gensim_float_seed(folder, monkeypatch):
    from sklearn_l1align.gensim import align, keyed_vectors_from_arrays

    fr = keyed_vectors_from_arrays([f"s{i}" for i in range(10)], X)
    ru = keyed_vectors_from_arrays([f"t{i}" for i in range(10)], Y)
    return lambda: align(fr, ru, ProcrustesAligner(), seed_dictionary=PAIRS.astype(np.float64))


def _non_string_dictionary(folder, monkeypatch):
    from sklearn_l1align.gensim import dictionary_to_pairs, keyed_vectors_from_arrays

    fr = keyed_vectors_from_arrays(["chat", "chien"], np.eye(2))
    return lambda: dictionary_to_pairs([("chat", 3)], fr, fr, lowercase=True)


# ----------------------------------------------------------------------------- CLI
def _cli_inputs(folder):
    from sklearn_l1align.io import write_word2vec

    rng = np.random.default_rng(1)
    write_word2vec(folder / "src.vec", [f"s{i}" for i in range(30)], rng.normal(size=(30, 4)))
    write_word2vec(folder / "tgt.vec", [f"t{i}" for i in range(30)], rng.normal(size=(30, 4)))
    (folder / "seed.txt").write_text("".join(f"s{i} t{i}\n" for i in range(20)), encoding="utf-8")


def _cli(*argv, files=None, previous=False):
    """A CLI case: inputs in the folder, ``files`` (name -> bytes) added or replaced, and
    with ``previous`` the outputs of an earlier successful run already in place."""

    def make(folder, monkeypatch):
        _cli_inputs(folder)
        if previous:
            from sklearn_l1align.cli import main

            status = main(["align", str(folder / "src.vec"), str(folder / "tgt.vec"), "--seed-dict",
                           str(folder / "seed.txt"), "-o", str(folder / "out.vec"), "--refine",
                           "none", "-q"])
            assert status == 0
        for name, data in (files or {}).items():
            (folder / name).write_bytes(data)
        return lambda: [str(folder / a) if a.endswith((".vec", ".txt", ".json")) else a for a in argv]

    return make


_ALIGN = ("align", "src.vec", "tgt.vec", "--seed-dict", "seed.txt", "-o", "out.vec", "-q")


# ------------------------------------------------------------------ io (issue 11, items 1-5)
def _io_fifo(fn):
    """A FIFO in the folder as the output ``fn`` writes."""

    def make(folder, monkeypatch):
        import os

        os.mkfifo(folder / "out.vec")
        return lambda: fn(folder / "out.vec")

    return make


def _io_symlink(fn):
    def make(folder, monkeypatch):
        (folder / "target.json").write_text("keep")
        (folder / "out.json").symlink_to(folder / "target.json")
        return lambda: fn(folder / "out.json")

    return make


def _io_read_only(fn):
    """A folder where no file can be created (root bypasses chmod: EROFS is injected)."""

    def make(folder, monkeypatch):
        from sklearn_l1align.io import _atomic

        def read_only(*args, **kwargs):
            raise OSError(30, "Read-only file system")

        monkeypatch.setattr(_atomic.tempfile, "mkstemp", read_only)
        return lambda: fn(folder / "out.vec")

    return make


def _round_trip_words(folder, monkeypatch):
    words = ["a\u00a0b", "thin\u2009space", "\u3000ideo", "next\x85line"]

    def act():
        l1io.write_word2vec(folder / "u.vec", words, np.eye(4))
        return words, l1io.read_word2vec(folder / "u.vec")

    return act


def _check_round_trip_words(result):
    words, (back, vectors) = result
    assert back == words
    assert_array_equal(vectors, np.eye(4))


def _text_named_bin(folder, monkeypatch):
    (folder / "emb.bin").write_bytes(b"2 2\nchat 1 2\nchien 3 4\n")
    return lambda: l1io.read_word2vec(folder / "emb.bin")


def _check_text_named_bin(result):
    words, vectors = result
    assert words == ["chat", "chien"]
    assert_array_equal(vectors, [[1, 2], [3, 4]])


def _fasttext_model(folder, monkeypatch):
    fasttext = pytest.importorskip("gensim.models.fasttext")
    model = fasttext.FastText([["le", "chat", "dort"], ["le", "chien", "court"]] * 3, vector_size=4,
                              min_count=1, epochs=1, seed=0, workers=1, bucket=100)
    fasttext.save_facebook_model(model, str(folder / "model.bin"))
    expected = fasttext.load_facebook_vectors(str(folder / "model.bin"))
    return lambda: (expected, l1io.read_word2vec(folder / "model.bin"))


def _check_fasttext_model(result):
    expected, (words, vectors) = result
    assert words == list(expected.index_to_key)
    assert_array_equal(vectors, expected.vectors)


def _mapping_file(name, data_fn):
    def make(folder, monkeypatch):
        (folder / name).write_bytes(data_fn())
        return lambda: l1io.load_mapping(folder / name)

    return make


def _npy(shape, data=b"", descr="<f8"):
    import struct

    header = repr({"descr": descr, "fortran_order": False, "shape": tuple(shape)}).encode("latin1")
    header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + data


def _mapping_zip(rotation, metadata="{}", compression=0):
    import io as bytes_io
    import zipfile

    out = bytes_io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as archive:
        for key, value in (("format", np.str_("sklearn_l1align.mapping")),
                           ("format_version", np.int64(1)), ("metadata", np.str_(metadata))):
            entry = bytes_io.BytesIO()
            np.lib.format.write_array(entry, np.asarray(value))
            archive.writestr(f"{key}.npy", entry.getvalue())
        archive.writestr("rotation.npy", rotation)
    return out.getvalue()


def _truncated_mapping():
    import io as bytes_io

    out = bytes_io.BytesIO()
    np.savez(out, format=np.str_("sklearn_l1align.mapping"), format_version=np.int64(1),
             rotation=np.eye(20), metadata=np.str_("{}"))
    return out.getvalue()[:2000]


def _staged_commit(fault):
    """An earlier set of three outputs, and a new set whose commit meets ``fault``."""

    def make(folder, monkeypatch):
        import os
        import signal

        from sklearn_l1align.io._atomic import StagedOutputs

        names = ("out.vec", "out.mapping.npz", "out.report.json")
        for name in names:
            (folder / name).write_text(f"old {name}")
        real_replace, real_link, calls = os.replace, os.link, []

        def replace(src, dst):
            if ".partial" in str(src) and ".previous" not in str(src):
                calls.append(dst)
                if fault == "sigint" and len(calls) == 2:
                    os.kill(os.getpid(), signal.SIGINT)
            return real_replace(src, dst)

        def link(src, dst):
            if fault == "immutable" and str(src).endswith("report.json"):
                raise PermissionError(1, "Operation not permitted (an immutable old report)")
            return real_link(src, dst)

        monkeypatch.setattr(os, "replace", replace)
        monkeypatch.setattr(os, "link", link)

        def commit():
            with StagedOutputs([folder / n for n in names]) as staged:
                for name in names:
                    staged[folder / name].write_text(f"new {name}")
                staged.commit()

        if fault != "sigint":
            return commit

        def interrupted():
            with pytest.raises(KeyboardInterrupt):
                commit()
            return {p.name: p.read_text() for p in folder.iterdir()}

        return interrupted

    return make


def _cli_special(kind):
    """A CLI case whose output is a FIFO, /dev/null or a symlink."""

    def make(folder, monkeypatch):
        import os

        _cli_inputs(folder)
        if kind == "fifo":
            os.mkfifo(folder / "r.json")
            json_path = str(folder / "r.json")
        elif kind == "symlink":
            (folder / "target.json").write_text("keep")
            (folder / "r.json").symlink_to(folder / "target.json")
            json_path = str(folder / "r.json")
        else:
            json_path = "/dev/null"
        return lambda: ["evaluate", str(folder / "src.vec"), str(folder / "tgt.vec"), "--dict",
                        str(folder / "seed.txt"), "--json", json_path, "-q"]

    return make


# ------------------------------------------------------------------------------ table
CASES = [
    # ---------------------------------------------------------------- NaN and inf
    Case("nan-fit", "NaN in the source embeddings", "``ProcrustesAligner.fit``", "ValueError",
         "Input X contains NaN", _act(ProcrustesAligner().fit, _with(X, 2, 1, np.nan), Y)),
    Case("inf-fit", "infinity in the target embeddings", "``L1ProcrustesAligner.fit``", "ValueError",
         "Input y contains infinity",
         _act(L1ProcrustesAligner(dictionary="paired").fit, X, _with(Y, 3, 0, np.inf))),
    Case("nan-transform", "NaN in vectors to map", "``ProcrustesAligner.transform``", "ValueError",
         "Input X contains NaN",
         _act(lambda: ProcrustesAligner().fit(X, Y).transform(_with(X, 0, 0, np.nan)))),
    Case("nan-builder", "NaN in the mapped source", "``CSLSDictionaryBuilder.build``", "ValueError",
         "Input X_src contains NaN", _act(CSLSDictionaryBuilder().build, _with(X, 0, 0, np.nan), Y)),
    Case("inf-bli", "infinity in the target space", "``metrics.bli_precision``", "ValueError",
         "Input X_tgt contains infinity", _act(bli_precision, X, _with(Y, 0, 0, -np.inf), PAIRS)),
    Case("nan-solver", "NaN in a solver's stacked pairs", "``StiefelFlowSolver.solve``", "ValueError",
         "A and B must be finite. Got NaN or inf values instead",
         _act(StiefelFlowSolver().solve, _with(X, 0, 0, np.nan), Y)),
    # ---------------------------------------------------------------- dimensions
    Case("dim-fit", "source and target dimensions differ", "``ProcrustesAligner.fit``", "ValueError",
         "X and y must have the same number of features (embedding dimension). Got 4 and 3 instead",
         _act(ProcrustesAligner().fit, X, Y[:, :3])),
    Case("dim-builder", "source and target dimensions differ", "``CSLSDictionaryBuilder.build``",
         "ValueError", "X_src and X_tgt must have the same number of features",
         _act(CSLSDictionaryBuilder().build, X, Y[:, :3])),
    Case("dim-transform", "vectors to map have another dimension", "``ProcrustesAligner.transform``",
         "ValueError", "X has 3 features, but ProcrustesAligner is expecting 4 features",
         _act(lambda: ProcrustesAligner().fit(X, Y).transform(X[:, :3]))),
    # ---------------------------------------------------------------- shapes
    Case("empty-x", "empty source matrix (0 rows)", "``ProcrustesAligner.fit``", "ValueError",
         "Found array with 0 sample(s) (shape=(0, 4)) while a minimum of 1 is required by "
         "ProcrustesAligner", _act(ProcrustesAligner().fit, np.empty((0, 4)), Y)),
    Case("empty-y", "empty target matrix (0 rows)", "``L1ProcrustesAligner.fit``", "ValueError",
         "y must hold at least one target-language embedding (row). Got an array of shape (0, 4) "
         "instead", _act(L1ProcrustesAligner().fit, X, np.empty((0, 4)), pairs=[[0, 0]])),
    Case("no-columns", "matrices with 0 columns", "``ProcrustesAligner.fit``", "ValueError",
         "Found array with 0 feature(s)", _act(ProcrustesAligner().fit, np.empty((5, 0)), np.empty((5, 0)))),
    Case("single-row", "a single row (one pair)", "``ProcrustesAligner.fit``", "accepted",
         "an orthogonal map taking the source row's direction to the target row's (one minimiser "
         "among many: one pair does not determine the rest)",
         _act(ProcrustesAligner().fit, X[:1], Y[:1]), check=_check_single_row),
    Case("single-row-l1", "a single row in each space", "``L1ProcrustesAligner.fit``", "accepted",
         "the one-pair mutual dictionary ``[[0, 0]]`` and an orthogonal map no worse than the start",
         _act(L1ProcrustesAligner(solver=StiefelFlowSolver(integrator="cayley")).fit, X[:1], Y[:1]),
         check=_check_single_row_l1),
    # ---------------------------------------------------------------- zero rows
    Case("zero-rows-unit", "zero-norm rows", "``normalize_embeddings``", "accepted",
         "the ``unit`` step keeps zero rows at zero; centring then moves them to minus the mean "
         "(as VecMap does); never NaN", _act(_normalize_zero_rows_default),
         check=_check_unit_keeps_zero_rows),
    Case("zero-rows-dictionary", "zero-norm rows", "``CSLSDictionaryBuilder.build``", "accepted",
         "a zero row has cosine 0 with every row and CSLS neighbourhood 0; no NaN, no warning",
         _act(CSLSDictionaryBuilder(max_rank=None, direction="union").build, X_ZERO, Y_ZERO),
         check=_check_zero_rows_dictionary),
    Case("zero-rows-bli", "zero-norm rows", "``metrics.bli_precision``", "accepted",
         "finite precision; a zero query is a miss, not NaN",
         _act(bli_precision, X_ZERO, Y_ZERO, [[1, 1], [0, 0], [3, 3]], k=1),
         check=_check_zero_rows_bli),
    # ---------------------------------------------------------------- dtypes
    Case("int", "integer embeddings", "``ProcrustesAligner.fit``", "accepted",
         "converted to float64", _act(ProcrustesAligner().fit, np.arange(40).reshape(10, 4),
                                      np.arange(40).reshape(10, 4)[:, ::-1]), check=_check_float64),
    Case("float16", "float16 embeddings", "``ProcrustesAligner.fit``, ``transform``", "accepted",
         "converted to float64", _act(_fit_float16), check=_check_float64),
    Case("complex-fit", "complex embeddings", "``ProcrustesAligner.fit``", "ValueError",
         "Complex data not supported: X must hold real numbers", _act(ProcrustesAligner().fit, X + 1j, Y)),
    Case("complex-bli", "complex target space", "``metrics.bli_precision``", "ValueError",
         "Complex data not supported: X_tgt must hold real numbers", _act(bli_precision, X, Y * 1j, PAIRS)),
    Case("complex-solver", "complex stacked pairs", "``HuberContinuationSolver.solve``", "ValueError",
         "A must be real. Got complex dtype complex128 instead", _act(HuberContinuationSolver().solve, X + 0j, Y)),
    Case("sparse-fit", "a SciPy sparse matrix", "``ProcrustesAligner.fit``", "TypeError",
         "Sparse data was passed for X, but dense data is required. Use '.toarray()'",
         _act(ProcrustesAligner().fit, sp.csr_matrix(X), Y)),
    Case("sparse-builder", "a SciPy sparse matrix", "``CSLSDictionaryBuilder.build``", "TypeError",
         "Sparse data was passed for X_tgt, but dense data is required",
         _act(CSLSDictionaryBuilder().build, X, sp.csr_matrix(Y))),
    # ---------------------------------------------------------------- pairs
    Case("pairs-range", "``pairs`` beyond the source rows", "``ProcrustesAligner.fit``", "ValueError",
         "pairs[:, 0] indexes the source rows, so it must be < 10. Got 10 at row 1 instead",
         _act(ProcrustesAligner().fit, X, Y, pairs=[[0, 0], [10, 1]])),
    Case("pairs-range-tgt", "``pairs`` beyond the target rows", "``metrics.bli_precision``", "ValueError",
         "pairs[:, 1] indexes the target rows, so it must be < 10. Got 12 at row 0 instead",
         _act(bli_precision, X, Y, [[0, 12]])),
    Case("pairs-shape", "``pairs`` of the wrong shape", "``L1ProcrustesAligner.fit``", "ValueError",
         "pairs must have shape (n_pairs, 2): one (source row, target row) per line. Got shape (1, 3) instead",
         _act(L1ProcrustesAligner().fit, X, Y, pairs=[[0, 0, 0]])),
    Case("pairs-negative", "negative ``pairs``", "``ProcrustesAligner.fit``", "ValueError",
         "pairs must hold non-negative row indices. Got [-1, 2] at row 1 instead",
         _act(ProcrustesAligner().fit, X, Y, pairs=[[0, 0], [-1, 2]])),
    Case("pairs-float", "non-integer ``pairs`` (0.5)", "``ProcrustesAligner.fit``", "ValueError",
         "pairs must be an array of integer row indices of shape (n_pairs, 2). Got dtype float64 instead",
         _act(ProcrustesAligner().fit, X, Y, pairs=[[0, 0.5]])),
    Case("pairs-empty", "empty ``pairs``", "``ProcrustesAligner.fit``", "ValueError",
         "pairs is empty: at least one (source, target) pair is needed",
         _act(ProcrustesAligner().fit, X, Y, pairs=np.empty((0, 2), dtype=int))),
    # ---------------------------------------------------------------- dictionaries
    Case("dict-oov", "dictionary entirely out of vocabulary", "``gensim.dictionary_to_pairs``",
         "ValueError", "At least one dictionary pair must have both words in the vocabularies "
         "(2 source and 2 target words). Got 2 pairs, all out of vocabulary", _oov_dictionary),
    Case("dict-empty", "empty dictionary file", "``io.read_dictionary``", "EmbeddingFormatError",
         "A dictionary must hold at least one 'source target' pair. Got an empty file instead",
         _read_dict(b""), names_line=1),
    Case("dict-binary", "dictionary file that is binary", "``io.read_dictionary``",
         "EmbeddingFormatError", "A dictionary must be a text file. Got a NUL byte at byte 0",
         _read_dict(b"chat kot\n\x00\x01\x02 x\n"), names_line=2),
    Case("dict-one-column", "dictionary file with one column", "``io.read_dictionary``",
         "EmbeddingFormatError", "Expected two whitespace-separated columns 'source target'. "
         "Got 1 column ('chien') instead", _read_dict(b"chat kot\nchien\n"), names_line=2),
    Case("no-mutual", "dictionary induction finds no mutual pair", "``CSLSDictionaryBuilder.build``",
         "ValueError", "found no pairs among 2 source and 2 target rows. The spaces are probably "
         "not aligned yet", _no_mutual(through_fit=False)),
    Case("no-mutual-fit", "dictionary induction finds no mutual pair", "``L1ProcrustesAligner.fit``",
         "ValueError", "Dictionary induction (csls, direction='mutual') found no pairs",
         _no_mutual(through_fit=True)),
    # ---------------------------------------------------------------- initial maps
    Case("initial-vode", "non-orthogonal ``initial``", "``StiefelFlowSolver().solve``", "ValueError",
         "initial must be orthogonal: max|MᵀM − I| <= 1e-05. Got 0.21 instead",
         _act(StiefelFlowSolver().solve, X, Y, initial=_not_orthogonal())),
    Case("initial-cayley", "non-orthogonal ``initial``",
         "``StiefelFlowSolver(integrator='cayley').solve``", "ValueError",
         "initial must be orthogonal: max|MᵀM − I| <= 1e-05. Got 0.21 instead",
         _act(StiefelFlowSolver(integrator="cayley").solve, X, Y, initial=_not_orthogonal())),
    Case("initial-huber", "non-orthogonal ``initial``", "``HuberContinuationSolver.solve``", "ValueError",
         "initial must be orthogonal: max|MᵀM − I| <= 1e-05. Got 0.21 instead",
         _act(HuberContinuationSolver().solve, X, Y, initial=_not_orthogonal())),
    Case("initial-subgradient", "non-orthogonal ``initial``", "``RiemannianSubgradientSolver.solve``",
         "ValueError", "initial must be orthogonal: max|MᵀM − I| <= 1e-05. Got 0.21 instead",
         _act(RiemannianSubgradientSolver().solve, X, Y, initial=_not_orthogonal())),
    Case("initial-admm", "non-orthogonal ``initial``", "``ADMMSolver.solve``",
         "ValueError", "initial must be orthogonal: max|MᵀM − I| <= 1e-05. Got 0.21 instead",
         _act(ADMMSolver().solve, X, Y, initial=_not_orthogonal())),
    Case("initial-shape", "``initial`` of the wrong shape", "``StiefelFlowSolver().solve``", "ValueError",
         "initial must have shape (4, 4). Got (3, 3) instead",
         _act(StiefelFlowSolver().solve, X, Y, initial=np.eye(3))),
    # ---------------------------------------------------------------- .vec files
    Case("vec-truncated", "``.vec`` file truncated", "``io.read_word2vec``", "EmbeddingFormatError",
         "The header declares 3 rows. Got the end of the file after 2 rows instead (is the file truncated?)",
         _read_vec(b"3 2\nchat 1 2\nchien 3 4\n"), names_line=4),
    Case("vec-cut-row", "``.vec`` file cut inside a row", "``io.read_word2vec``", "EmbeddingFormatError",
         "Each row needs 2 values after the word, as the header declares. Got 1 values for 'chien'",
         _read_vec(b"2 2\nchat 1 2\nchien 3"), names_line=3),
    Case("vec-gzip-cut", "``.vec.gz`` file cut short", "``io.read_word2vec``", "EmbeddingFormatError",
         "The gzip stream must be complete and valid. Got a corrupt or cut stream",
         _read_vec(b"2 2\nchat 1 2\nchien 3 4\n", name="emb.vec.gz")),
    Case("vec-count", "header count lower than the rows", "``io.read_word2vec``", "EmbeddingFormatError",
         "The header declares 2 rows, so the file must end after them. Got more data instead",
         _read_vec(b"2 2\nchat 1 2\nchien 3 4\nroi 5 6\n"), names_line=4),
    Case("vec-dim", "header dimension wrong", "``io.read_word2vec``", "EmbeddingFormatError",
         "The header declares dimension 3, so each row needs 3 values after the word. Got 2 values for 'chat'",
         _read_vec(b"2 3\nchat 1 2\nchien 3 4\n"), names_line=2),
    Case("vec-duplicate", "duplicate words", "``io.read_word2vec``", "EmbeddingFormatError",
         "Words must be unique. Got 'chat' again, first seen on line 2, instead",
         _read_vec(b"3 2\nchat 1 2\nchien 3 4\nchat 5 6\n"), names_line=4),
    Case("vec-utf8", "invalid UTF-8", "``io.read_word2vec``", "EmbeddingFormatError",
         "The text must be UTF-8. Got the undecodable bytes b'\\xff\\xfe",
         _read_vec(b"2 2\nchat 1 2\n\xff\xfechien 3 4\n"), names_line=3),
    Case("vec-nan", "NaN in a ``.vec`` file", "``io.read_word2vec``", "EmbeddingFormatError",
         "Vector values must be finite numbers that fit in float32. Got a NaN, an infinity or an "
         "overflowing value in the row for 'chat' instead", _read_vec(b"2 2\nchat 1 nan\nchien 3 4\n"),
         names_line=2),
    Case("vec-keyed", "``.vec`` file truncated", "``gensim.read_keyed_vectors``", "EmbeddingFormatError",
         "The header declares 3 rows. Got the end of the file after 1 rows instead",
         _keyed(b"3 2\nchat 1 2\n"), names_line=3),
    # ---------------------------------------------------------------- outputs
    Case("out-vec-folder", "output folder does not exist", "``io.write_word2vec``", "FileNotFoundError",
         "The output folder", _missing_folder(lambda p: l1io.write_word2vec(p, ["a"], np.ones((1, 2))))),
    Case("out-mapping-folder", "output folder does not exist", "``io.save_mapping``", "FileNotFoundError",
         "The output folder", _missing_folder(lambda p: l1io.save_mapping(p, np.eye(2)))),
    Case("out-keyed-folder", "output folder does not exist", "``gensim.write_keyed_vectors``",
         "FileNotFoundError", "The output folder", _missing_folder(_write_keyed)),
    Case("out-vec-existing", "NaN vectors written over an existing file", "``io.write_word2vec``",
         "ValueError", "vectors must be finite. Got NaN or infinity in row 1 ('b') instead",
         _over_existing("out.vec", lambda p: l1io.write_word2vec(p, ["a", "b"], np.eye(2)),
                        lambda p: l1io.write_word2vec(p, ["a", "b"], [[1, 0], [np.nan, 1]]))),
    Case("out-mapping-existing", "non-orthogonal map saved over an existing file", "``io.save_mapping``",
         "ValueError", "save_mapping: the rotation must be orthogonal",
         _over_existing("map.npz", lambda p: l1io.save_mapping(p, np.eye(2)),
                        lambda p: l1io.save_mapping(p, np.ones((2, 2))))),
    # ---------------------------------------------------------------- CLI
    Case("cli-out-folder", "``-o`` in a folder that does not exist", "``l1align align``", "exit status 2",
         "The output folder", _cli("align", "src.vec", "tgt.vec", "--seed-dict", "seed.txt", "-o",
                                   "no_such_folder/out.vec", "-q")),
    Case("cli-json-folder", "``--json`` in a folder that does not exist", "``l1align evaluate``",
         "exit status 2", "must exist", _cli("evaluate", "src.vec", "tgt.vec", "--dict", "seed.txt",
                                            "--json", "no_such_folder/r.json", "-q")),
    Case("cli-dim", "SRC and TGT dimensions differ", "``l1align align``", "exit status 2",
         "SRC and TGT must have the same dimension. Got 4",
         _cli(*_ALIGN, files={"tgt.vec": b"2 3\nt0 1 2 3\nt1 4 5 6\n"}, previous=True)),
    Case("cli-truncated", "SRC truncated", "``l1align align``", "exit status 2",
         "src.vec, line 3: The header declares 5 rows. Got the end of the file after 1 rows",
         _cli(*_ALIGN, files={"src.vec": b"5 4\ns0 1 2 3 4\n"}, previous=True)),
    Case("cli-nan", "NaN in TGT", "``l1align refine``", "exit status 2",
         "tgt.vec, line 2: Vector values must be finite",
         _cli("refine", "src.vec", "tgt.vec", "-o", "out.vec", "-q",
              files={"tgt.vec": b"2 4\nt0 1 2 3 nan\nt1 1 2 3 4\n"}, previous=True)),
    Case("cli-duplicate", "duplicate words in SRC", "``l1align evaluate``", "exit status 2",
         "src.vec, line 3: Words must be unique",
         _cli("evaluate", "src.vec", "tgt.vec", "--dict", "seed.txt", "-q",
              files={"src.vec": b"2 4\ns0 1 2 3 4\ns0 1 2 3 4\n"})),
    Case("cli-oov", "seed dictionary entirely out of vocabulary", "``l1align align``", "exit status 2",
         "all out of vocabulary", _cli(*_ALIGN, files={"seed.txt": b"x y\nz w\n"}, previous=True)),
    Case("cli-one-column", "seed dictionary with one column", "``l1align align``", "exit status 2",
         "seed.txt, line 2: Expected two whitespace-separated columns",
         _cli(*_ALIGN, files={"seed.txt": b"s0 t0\ns1\n"}, previous=True)),
    Case("cli-binary-dict", "test dictionary that is binary", "``l1align evaluate``", "exit status 2",
         "seed.txt, line 1: A dictionary must be a text file",
         _cli("evaluate", "src.vec", "tgt.vec", "--dict", "seed.txt", "-q", files={"seed.txt": b"\x00\x01"})),
    Case("cli-overwrite-input", "output path equal to an input", "``l1align refine``", "exit status 2",
         "An output must not overwrite an input", _cli("refine", "src.vec", "tgt.vec", "-o", "src.vec", "-q")),
    # ------------------------------------------------------- aligners (issue 11, item 6)
    Case("solver-nan-rotation", "a custom solver returns a NaN rotation", "``L1ProcrustesAligner.fit``",
         "ValueError", "must return a finite orthogonal (4, 4) rotation (max|MᵀM − I| <= 0.001). "
         "Got NaN or inf entries instead.",
         _act(L1ProcrustesAligner(dictionary="paired", solver=type("NaNSolver", (), {
             "solve": lambda self, A, B, initial=None: type("Result", (), {
                 "rotation": np.full((4, 4), np.nan)})()})()).fit, X, Y)),
    Case("solver-skewed-rotation", "a custom solver returns a non-orthogonal matrix",
         "``L1ProcrustesAligner.fit``", "ValueError",
         "must return a finite orthogonal (4, 4) rotation (max|MᵀM − I| <= 0.001). Got max|MᵀM − I| = 0.21",
         _act(L1ProcrustesAligner(dictionary="paired", solver=type("SkewSolver", (), {
             "solve": lambda self, A, B, initial=None: type("Result", (), {
                 "rotation": _not_orthogonal()})()})()).fit, X, Y)),
    Case("l1-zero-rows", "all-zero source rows", "``L1ProcrustesAligner.fit``", "ValueError",
         "X must hold at least one non-zero row",
         _act(L1ProcrustesAligner(dictionary="paired").fit, np.zeros((10, 4)), Y)),
    Case("validation-overlap", "``validation_pairs`` sharing source words with ``pairs``",
         "``ProcrustesAligner.fit``", "ValueError",
         "validation_pairs must be held out: their source words must not occur in pairs",
         _act(ProcrustesAligner().fit, X, Y, pairs=PAIRS[:5], validation_pairs=PAIRS[4:])),
    Case("unpaired-default", "two equal-size vocabularies and no ``pairs``", "``ProcrustesAligner.fit``",
         "accepted", "row i fitted to row i, with a UserWarning that names ``pairs=`` "
         "(``dictionary='paired'`` says it is meant and is silent)",
         lambda folder, monkeypatch: lambda: _warns_naming_pairs(lambda: ProcrustesAligner().fit(X, Y)),
         check=lambda aligner: assert_array_equal(aligner.dictionary_, PAIRS)),
    # ---------------------------------------------------------------- metrics, neighbours, gensim (issue 11)
    Case("mcnemar-many", "McNemar test with 4,000 discordant queries", "``metrics.mcnemar_test``",
         "accepted", "the exact binomial p-value (no overflow of 2**n), equal to "
         "``scipy.stats.binomtest``", _act(_mcnemar_many), check=_check_mcnemar_many),
    Case("bli-k-float", "non-integer cut-off ``k=(1.5,)``", "``metrics.bli_precision``", "ValueError",
         "k must be a positive integer or a tuple of positive integers (cut-offs such as 1, 5, 10). "
         "Got 1.5 in k=(1.5,) instead", _act(bli_precision, X, Y, PAIRS, k=(1.5,))),
    Case("bli-k-zero", "non-positive cut-off ``k=(1, 0)``", "``metrics.bli_precision``", "ValueError",
         "Got 0 in k=(1, 0) instead", _act(bli_precision, X, Y, PAIRS, k=(1, 0))),
    Case("pairs-uint64", "uint64 pairs near 2**64", "``metrics.bli_precision``", "ValueError",
         "pairs[:, 0] indexes the source rows, so it must be < 10. Got 18446744073709551615 at row 0",
         _act(bli_precision, X, Y, np.array([[2**64 - 1, 0]], dtype=np.uint64))),
    Case("unit-huge", "float32 rows near 1e20 (squares overflow)", "``normalize_embeddings``",
         "accepted", "unit-length rows in the rows' directions (each row is scaled by its largest "
         "entry before its norm is taken); no warning", _act(_normalize_scaled, 1e20),
         check=_check_unit_rows_of_x),
    Case("unit-tiny", "float32 rows near 1e-25 (squares underflow)", "``normalize_embeddings``",
         "accepted", "unit-length rows in the rows' directions; zero rows stay zero",
         _act(_normalize_scaled, 1e-25), check=_check_unit_rows_of_x),
    Case("gensim-float-pairs", "float index array as the seed dictionary", "``gensim.align``",
         "TypeError", "seed_dictionary as an array must hold integer (source row, target row) indices",
         _gensim_float_seed),
    Case("dict-non-string", "a dictionary word that is not a string", "``gensim.dictionary_to_pairs``",
         "TypeError", "Dictionary words must be strings. Got 3 (int) in ('chat', 3) at position 0",
         _non_string_dictionary),
    # ---------------------------------------------------------------- io: words, bounds, streams (issue 11)
    Case("vec-unicode-space-words", "words holding Unicode whitespace (NBSP, U+2009, U+3000, NEL)",
         "``io.write_word2vec``, ``io.read_word2vec``", "accepted",
         "written and read back unchanged: only ASCII whitespace separates fields",
         _round_trip_words, check=_check_round_trip_words),
    Case("vec-write-ascii-space", "a word holding a tab", "``io.write_word2vec``", "ValueError",
         "Each word must be a non-empty string without ASCII whitespace",
         _act(l1io.write_word2vec, "unused.vec", ["a", "b\tc"], np.eye(2))),
    Case("dict-unicode-space", "dictionary words holding Unicode whitespace", "``io.read_dictionary``",
         "accepted", "two columns, split at ASCII whitespace only",
         _read_dict("a\u00a0b c\u3000\nx\ty\n".encode()),
         check=lambda pairs: pairs == [("a\u00a0b", "c\u3000"), ("x", "y")]),
    Case("vec-huge-dim", "header ``10 2000000000``", "``io.read_word2vec``", "EmbeddingFormatError",
         "The header's dimension must be at most 100000. Got 2000000000 instead",
         _read_vec(b"10 2000000000\na 1 2\n"), names_line=1),
    Case("vec-no-newline", "2 MB of NUL bytes without a newline (like ``/dev/zero``)",
         "``io.read_word2vec``", "EmbeddingFormatError",
         "The header line must be at most 1048576 bytes long", _read_vec(b"\x00" * (2 << 20)),
         names_line=1),
    Case("vec-long-row", "a row longer than its bound", "``io.read_word2vec``", "EmbeddingFormatError",
         "A row must be at most 4224 bytes long", _read_vec(b"1 2\nw " + b"1" * 10_000 + b" 2\n"),
         names_line=2),
    Case("dict-long-line", "a dictionary line of 2 MB", "``io.read_dictionary``", "EmbeddingFormatError",
         "A line must be at most 1048576 bytes long", _read_dict(b"a" * (2 << 20)), names_line=1),
    Case("vec-text-named-bin", "a text file named ``.bin``", "``io.read_word2vec``", "accepted",
         "read as text: the format is sniffed from the first record, not the name",
         _text_named_bin, check=_check_text_named_bin),
    Case("vec-fasttext-bin", "a fastText ``.bin`` model", "``io.read_word2vec``", "accepted",
         "the vocabulary and its vectors, read through gensim's ``load_facebook_vectors``",
         _fasttext_model, check=_check_fasttext_model),
    Case("dict-indices-non-string", "a non-string word in word pairs", "``io.dictionary_to_indices``",
         "TypeError", "Dictionary words must be strings. Got 3 (int) in ('chat', 3) at position 0",
         _act(l1io.dictionary_to_indices, [("chat", 3)], ["chat"], ["кот"])),
    # ---------------------------------------------------------------- io: outputs (issue 11)
    Case("out-fifo", "output path that is a FIFO", "``io.write_word2vec``", "ValueError",
         "An output must be a regular file, which is replaced; other files are never replaced",
         _io_fifo(lambda p: l1io.write_word2vec(p, ["a"], np.ones((1, 2))))),
    Case("out-symlink", "output path that is a symbolic link", "``io.save_mapping``", "ValueError",
         "a symbolic link, instead", _io_symlink(lambda p: l1io.save_mapping(p, np.eye(2)))),
    Case("out-read-only", "output folder where no file can be created", "``io.write_word2vec``",
         "PermissionError", "The output folder must be writable",
         _io_read_only(lambda p: l1io.write_word2vec(p, ["a"], np.ones((1, 2))))),
    Case("commit-sigint", "Ctrl-C between the renames of a staged set of outputs",
         "``StagedOutputs.commit`` (the CLI's outputs)", "accepted",
         "KeyboardInterrupt once every rename is undone: all the earlier outputs, no staging folder",
         _staged_commit("sigint"),
         check=lambda listing: listing == {n: f"old {n}" for n in
                                           ("out.vec", "out.mapping.npz", "out.report.json")}),
    Case("commit-immutable", "an old output that cannot be replaced (immutable)",
         "``StagedOutputs.commit`` (the CLI's outputs)", "PermissionError", "an immutable old report",
         _staged_commit("immutable")),
    # ---------------------------------------------------------------- io: mappings (issue 11)
    Case("map-huge-shape", "a small ``.npz`` declaring a (100000, 100000) rotation",
         "``io.load_mapping``", "ValueError",
         "the rotation must be at most 4096 x 4096 (max_dim). Got a declared shape (100000, 100000)",
         _mapping_file("m.npz", lambda: _mapping_zip(_npy((100_000, 100_000), b"\x00" * 64)))),
    Case("map-compressed-6000", "a compressed 6000 x 6000 rotation", "``io.load_mapping``", "ValueError",
         "Got a declared shape (6000, 6000) instead (pass a larger max_dim to load it)",
         _mapping_file("m.npz", lambda: _mapping_zip(_npy((6000, 6000), np.eye(6000)[:20].tobytes()),
                                                     compression=8))),
    Case("map-truncated", "a truncated mapping file", "``io.load_mapping``", "ValueError",
         "Got a truncated or corrupt file", _mapping_file("m.npz", _truncated_mapping)),
    Case("map-nested", "metadata JSON nested 100,000 deep", "``io.load_mapping``", "ValueError",
         "nested 100000 deep, more than 32",
         _mapping_file("m.npz", lambda: _mapping_zip(_npy((2, 2), np.eye(2).tobytes()),
                                                     metadata="[" * 100_000 + "]" * 100_000))),
    # ---------------------------------------------------------------- CLI outputs (issue 11)
    Case("cli-json-fifo", "``--json`` naming a FIFO", "``l1align evaluate``", "exit status 2",
         "a FIFO (named pipe), instead", _cli_special("fifo")),
    Case("cli-json-dev-null", "``--json /dev/null`` (even as root)", "``l1align evaluate``",
         "exit status 2", "Got '/dev/null', a character device, instead", _cli_special("dev-null")),
    Case("cli-json-symlink", "``--json`` naming a symbolic link", "``l1align evaluate``",
         "exit status 2", "a symbolic link, instead", _cli_special("symlink")),
    Case("cli-huge-dim", "SRC header ``10 2000000000``", "``l1align align``", "exit status 2",
         "src.vec, line 1: The header's dimension must be at most 100000",
         _cli(*_ALIGN, files={"src.vec": b"10 2000000000\ns0 1 2\n"}, previous=True)),
    # -------------------------------------------------------------- CLI seeds and words (issue 12)
    Case("cli-identical-none", "``--identical`` with no string in both vocabularies",
         "``l1align align``", "exit status 2", "--identical needs strings present in both vocabularies",
         _cli("align", "src.vec", "tgt.vec", "--identical", "-o", "out.vec", "-q", previous=True)),
    Case("cli-validation-one-word", "validated ``align`` with a seed of one source word",
         "``l1align align``", "exit status 2", "--no-validation fits on the seed as it is",
         _cli(*_ALIGN, files={"seed.txt": b"s0 t0\ns0 t1\n"}, previous=True)),
    Case("cli-translate-oov", "``translate`` with no word in the source vocabulary",
         "``l1align translate``", "exit status 2",
         "At least one word to translate must be in the source vocabulary",
         _cli("translate", "src.vec", "tgt.vec", "zzz", "yyy", "-q")),
]


def _warns_naming_pairs(fit):
    with pytest.warns(UserWarning, match="pass the seed dictionary as pairs="):
        return fit()

ERROR_TYPES = {"ValueError": ValueError, "TypeError": TypeError, "FileNotFoundError": FileNotFoundError,
               "EmbeddingFormatError": EmbeddingFormatError, "PermissionError": PermissionError}


def _by_kind(kind):
    return [pytest.param(c, id=c.id) for c in CASES if
            (c.error == kind if kind in ("accepted", "exit status 2")
             else c.error not in ("accepted", "exit status 2"))]


def _snapshot(folder):
    """Every file and folder below ``folder`` (hidden ones included), with the files' bytes."""
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.rglob("*"))}


# ------------------------------------------------------------------------------ tests
def test_at_least_25_cases_and_unique_ids():
    assert len(CASES) >= 25
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", _by_kind("error"))
def test_error_case(case, tmp_path, monkeypatch):
    act = case.make(tmp_path, monkeypatch)
    before = _snapshot(tmp_path)
    with pytest.raises(ERROR_TYPES[case.error], match=re.escape(case.says)) as info:
        act()
    assert type(info.value).__name__ == case.error
    if isinstance(info.value, EmbeddingFormatError):
        # File errors name the file and the line.
        assert Path(info.value.filename).parent == tmp_path
        assert str(info.value).startswith(f"{info.value.filename}, line {info.value.lineno}: ")
        if case.names_line is not None:
            assert info.value.lineno == case.names_line
    # Nothing created, nothing overwritten, no temporary file left behind.
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("case", _by_kind("accepted"))
def test_accepted_case(case, tmp_path, monkeypatch):
    act = case.make(tmp_path, monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # e.g. 0/0 in a normalisation
        result = act()
    case.check(result)


@pytest.mark.parametrize("case", _by_kind("exit status 2"))
def test_cli_case(case, tmp_path, monkeypatch, capsys):
    cli = pytest.importorskip("sklearn_l1align.cli")
    argv = case.make(tmp_path, monkeypatch)()
    capsys.readouterr()  # drop the output of the setup run
    before = _snapshot(tmp_path)
    status = cli.main(argv)
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("l1align: error: ")
    assert case.says in lines[0]
    assert _snapshot(tmp_path) == before


def test_float_pairs_holding_integers_are_accepted():
    # Not in the table: 1.0 is a row index, 0.5 is not (case pairs-float).
    assert_array_equal(ProcrustesAligner().fit(X, Y, pairs=[[0.0, 1.0]]).dictionary_, [[0, 1]])


def test_mutual_dictionary_is_never_empty_with_exact_argmaxes():
    """Why the no-mutual cases need an injected fault: the best-scoring pair is always mutual.

    Take the largest score, and among the entries holding it the lowest row ``i``, then the
    lowest column ``j``: row ``i``'s argmax (lowest index on ties) is ``j`` and column ``j``'s
    is ``i``. Even all-tied scores (all-zero spaces) give the pair (0, 0).
    """
    for X_src, X_tgt in [(np.zeros((3, 2)), np.zeros((4, 2))), (X, -Y), (X, np.ones((6, 4)))]:
        for method in ("csls", "nn"):
            pairs = CSLSDictionaryBuilder(method=method, max_rank=None).build(X_src, X_tgt)
            assert len(pairs) >= 1


def test_embedding_normalizer_pipeline_input_checks():
    # The transformer in front of a Pipeline refuses the same inputs with the same messages.
    with pytest.raises(ValueError, match="Input X contains NaN"):
        EmbeddingNormalizer().fit(_with(X, 0, 0, np.nan))
    with pytest.raises(TypeError, match="Sparse data was passed for X"):
        EmbeddingNormalizer().fit(sp.csr_matrix(X))


# ------------------------------------------------------------------------ docs table
def _cell(text):
    return text.replace("\n", " ")


def rst_table():
    """The table of ``docs/bad_input.rst``, generated from ``CASES``."""
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 24 22 14 40",
        "",
        "   * - Case",
        "     - Where",
        "     - Error type",
        "     - Message says (or result)",
    ]
    for c in CASES:
        # Messages as literals: they hold characters reST would read as markup (|x|, *).
        says = c.says if c.error == "accepted" else f"``{c.says}``"
        error = c.error if c.error in ("accepted", "exit status 2") else f"``{c.error}``"
        lines += [f"   * - {_cell(c.case)}", f"     - {_cell(c.where)}", f"     - {error}",
                  f"     - {_cell(says)}"]
    return "\n".join(lines)


def test_docs_table_matches_the_cases():
    text = DOCS_PAGE.read_text(encoding="utf-8")
    start = text.index(TABLE_START) + len(TABLE_START)
    end = text.index(TABLE_END)
    assert text[start:end].strip() == rst_table().strip(), (
        "docs/bad_input.rst is out of date: regenerate its table with "
        "'python tests/test_bad_input.py'")


if __name__ == "__main__":
    sys.stdout.write(rst_table() + "\n")
