"""Tests of ``sklearn_l1align._logging.vlog``: verbose output that never configures logging for good."""

import logging

import numpy as np

from sklearn_l1align import CSLSDictionaryBuilder, ProcrustesAligner
from sklearn_l1align._logging import PACKAGE_LOGGER, vlog


def _state():
    pkg = logging.getLogger(PACKAGE_LOGGER)
    root = logging.getLogger()
    return list(pkg.handlers), pkg.level, list(root.handlers), root.level


def test_verbose_fit_leaves_the_loggers_as_they_were(capsys, monkeypatch):
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])  # an application that configured nothing
    before = _state()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 5))
    ProcrustesAligner(dictionary=CSLSDictionaryBuilder(max_rank=None), n_refinements=1,
                      verbose=1).fit(X, X)
    assert "round 0" in capsys.readouterr().err  # the verbose line was shown
    assert _state() == before
    # A later silent call prints nothing.
    ProcrustesAligner(dictionary="paired").fit(X, X)
    logging.getLogger("sklearn_l1align._base").info("not shown")
    assert capsys.readouterr().err == ""


def test_configured_application_gets_the_records_through_its_handlers(caplog):
    logger = logging.getLogger("sklearn_l1align.test")
    with caplog.at_level(logging.DEBUG, logger=PACKAGE_LOGGER):
        vlog(logger, 1, 1, "shown at %s", "INFO")
        vlog(logger, 0, 1, "quiet at %s", "DEBUG")
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.INFO, "shown at INFO"), (logging.DEBUG, "quiet at DEBUG")]
