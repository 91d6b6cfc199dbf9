"""Inputs shared by the ``l1align`` tests: tiny planted problems written to temporary files."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from sklearn_l1align.io import write_word2vec

REPO = Path(__file__).resolve().parents[1]

#: A planted problem: TGT = SRC @ R exactly, so every method must recover R.
N_WORDS, DIM, N_SEED, N_SHARED = 300, 12, 120, 40


def random_rotation(dim, seed):
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(dim, dim)))
    return q * np.sign(np.diag(r))


def write_dictionary(path, pairs):
    path.write_text("".join(f"{s} {t}\n" for s, t in pairs), encoding="utf-8")
    return path


def planted_files(folder, seed=0):
    """SRC, TGT (gzip) with TGT = SRC @ R, a seed and a test dictionary, in ``folder``.

    Source words are ``fr<i>``, target words ``ru<i>``, except the first ``N_SHARED``,
    which are the same string ``num<i>`` in both (for ``--identical``). Row ``i`` of the
    source translates to row ``i`` of the target.
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N_WORDS, DIM))
    R = random_rotation(DIM, seed + 1)
    Y = X @ R
    shared = [f"num{i}" for i in range(N_SHARED)]
    src_words = shared + [f"fr{i}" for i in range(N_SHARED, N_WORDS)]
    tgt_words = shared + [f"ru{i}" for i in range(N_SHARED, N_WORDS)]
    src, tgt = folder / "src.vec", folder / "tgt.vec.gz"
    write_word2vec(src, src_words, X)
    write_word2vec(tgt, tgt_words, Y)
    pairs = list(zip(src_words, tgt_words))
    train = write_dictionary(folder / "train.txt", pairs[N_SHARED:N_SHARED + N_SEED])
    test = write_dictionary(folder / "test.txt", pairs[N_SHARED + N_SEED:]
                            + [("fr299", "absent"), ("absent", "ru299")])
    return {"src": src, "tgt": tgt, "train": train, "test": test, "R": R, "X": X, "Y": Y,
            "src_words": src_words, "tgt_words": tgt_words}


def run_module(*args, cwd=None, input=None):
    """``python -m sklearn_l1align ARGS`` in a fresh process, importing this checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "sklearn_l1align", *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=300,
                          input=input)


def stderr_error(capsys):
    """The one ``l1align: error:`` line of stderr (asserting there is exactly one)."""
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("l1align: error:")]
    assert len(errors) == 1, err
    assert "Traceback" not in err
    return errors[0]


def row_relative_error(actual, expected):
    return (np.linalg.norm(actual - expected, axis=1) / np.linalg.norm(expected, axis=1)).max()
