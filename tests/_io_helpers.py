"""Helpers shared by the io test modules (one per io module)."""

import os
import re
from pathlib import Path

import numpy as np

WORDS = ["de", "Roi", "roi", "reine", "été", "король", "ROI"]


def random_vectors(n=len(WORDS), dim=5, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    # Mix magnitudes so that the text format has to keep many digits.
    scale = 10.0 ** rng.integers(-8, 8, size=(n, dim))
    return (rng.standard_normal((n, dim)) * scale).astype(dtype)


def write_file(path, content):
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def error_at(path, lineno, fragment=""):
    """Regex for an EmbeddingFormatError naming ``path`` and ``lineno``."""
    return rf"{re.escape(os.fspath(path))}, line {lineno}: .*{fragment}"


def listing(folder):
    return sorted(p.name for p in Path(folder).iterdir())
