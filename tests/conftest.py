"""Shared fixtures, and the one skip rule for real-data tests.

The real evaluation data lives in ``../shared/data`` (``_helpers.SHARED_DATA``, defined once).
A test that needs it carries ``@pytest.mark.realdata``; when the data is absent (a user's fresh
clone) every such test is skipped here, with the path in the reason. The fixtures below skip too,
for tests that use them without the marker.
"""

import signal

import pytest

from _helpers import SHARED_DATA, has_shared_data, read_muse_pairs, read_vectors, requires_shared_data

__all__ = ["requires_shared_data"]


def pytest_collection_modifyitems(config, items):
    if has_shared_data():
        return
    skip = pytest.mark.skip(reason=f"real evaluation data not found in {SHARED_DATA}")
    for item in items:
        if "realdata" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def standard_signal_handlers():
    """Every test starts with Python's own SIGINT handler and the default SIGTERM action.

    A shell starts background jobs (``cmd &``, some CI runners) with SIGINT ignored, and
    Python then installs no KeyboardInterrupt handler; the interrupt and commit tests, and
    the subprocesses they start (which inherit an ignored signal, not a handled one), need
    the usual dispositions. The previous ones are put back after each test.
    """
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    yield
    for sig, handler in previous.items():
        if handler is not None:
            signal.signal(sig, handler)


@pytest.fixture(scope="session")
def shared_data():
    """Path of ``../shared/data``; skips the test when the data is absent."""
    if not has_shared_data():
        pytest.skip(f"real evaluation data not found in {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def real_embeddings(shared_data):
    """``{"fr": (words, vectors), "ru": (words, vectors)}``, parsed once per session."""
    return {lang: read_vectors(shared_data / f"{lang}.vec.gz") for lang in ("fr", "ru")}


@pytest.fixture(scope="session")
def real_dictionaries(shared_data, real_embeddings):
    """``{("fr", "ru", "train"): pairs, ...}``: MUSE dictionaries as row-index pairs."""
    out = {}
    for src, tgt in (("fr", "ru"), ("ru", "fr")):
        for split in ("train", "test"):
            out[src, tgt, split] = read_muse_pairs(
                shared_data / f"{src}-{tgt}.{split}.txt", real_embeddings[src][0], real_embeddings[tgt][0])
    return out
