"""What the ``l1align`` commands print and save (``sklearn_l1align.cli._report``)."""

import json
from pathlib import Path

import numpy as np
import pytest

from sklearn_l1align import StopReason
from sklearn_l1align import metrics
from sklearn_l1align.cli import _report


def test_stop_text_names_the_clock_of_each_number():
    text = _report.stop_text("max_time", "reached the horizon max_time=0.005", 32.04)
    assert text.startswith("stopped by max_time (reached the horizon max_time=0.005)")
    assert "after 32.0 s of wall time" in text
    assert "max_time is flow time" in text and "not seconds" in text
    said = _report.stop_text("max_time", "reached the flow-time horizon (not seconds)", 1.0)
    assert said.count("flow") == 1  # not said twice
    other = _report.stop_text("time_budget", "time_budget=3 s ran out", 3.01)
    assert "flow time" not in other and "3.0 s of wall time" in other


def test_stop_text_covers_every_stop_reason():
    for reason in StopReason:
        assert f"stopped by {reason.value} " in _report.stop_text(reason.value, "why", 1.0)


def test_jsonable_and_dumps():
    value = {1: np.float32(0.5), "a": np.arange(3), "p": Path("x/y"), "t": (np.int64(2), None),
             "e": StopReason.MAX_TIME}
    assert _report.jsonable(value) == {"1": 0.5, "a": [0, 1, 2], "p": "x/y", "t": [2, None],
                                       "e": "max_time"}
    assert json.loads(_report.dumps({"x": [1.5]})) == {"x": [1.5]}
    with pytest.raises(ValueError):
        _report.dumps({"x": float("nan")})  # a report never holds NaN


def _evaluation():
    return {"precision": {"nn": {1: 0.25, 10: 0.5}, "csls": {1: 0.375, 10: 0.625}},
            "n_queries": 8, "csls_k": 7,
            "coverage": {"coverage": 0.8, "n_source_words": 10, "n_dropped": 3, "n_pairs": 12}}


def test_format_bli_table():
    lines = _report.format_bli(_evaluation(), "BLI a -> b").splitlines()
    assert lines[0] == ("BLI a -> b: 8 source words queried; coverage 80.0% of 10 source words "
                        "(3 of 12 pairs dropped as out of vocabulary)")
    assert lines[1].split() == ["method", "P@1", "P@10"]
    assert lines[2].split() == ["NN", "25.0", "50.0"]
    assert lines[3].split() == ["CSLS-7", "37.5", "62.5"]
    assert lines[4].startswith("Precision in %. MUSE word-translation convention")


def test_bli_report_keys():
    report = _report.bli_report(_evaluation())
    assert report["precision"] == {"nn": {"P@1": 0.25, "P@10": 0.5},
                                   "csls": {"P@1": 0.375, "P@10": 0.625}}
    assert report["n_queries"] == 8 and report["csls_k"] == 7
    assert report["convention"] == _report.BLI_CONVENTION


def test_bli_convention_is_the_gensim_adapters():
    gensim = pytest.importorskip("sklearn_l1align.gensim")
    assert _report.BLI_CONVENTION is gensim.BLI_CONVENTION is metrics.BLI_CONVENTION


@pytest.mark.parametrize("entry, kept, expected", [
    ({"candidate": "l2", "step": 0, "kept": True}, "l2", "base (kept: no refinement helped)"),
    ({"candidate": "l2", "step": 0, "kept": True}, "paper[1]", "base"),
    ({"candidate": "paper", "step": 1, "kept": True}, "paper[1]", "kept (best)"),
    ({"candidate": "paper", "step": 0, "kept": True}, "paper[1]", "kept (on the way to the best)"),
    ({"candidate": "paper", "step": 2, "kept": False, "significant": True}, "paper[1]",
     "not kept (a gain beyond noise, but not the best)"),
    ({"candidate": "requested", "step": 0, "kept": False, "significant": False}, "l2",
     "rejected (no gain beyond noise)"),
])
def test_verdict(entry, kept, expected):
    assert _report.verdict(entry, kept) == expected


def test_verdict_says_when_a_passed_over_step_ties_the_kept_one():
    entry = {"candidate": "paper", "step": 2, "kept": False, "significant": True,
             "held_out_p1": 0.433}
    assert _report.verdict(entry, "paper[0]", 0.433) == (
        "not kept (a gain beyond noise that ties the kept step, which comes first)")
    assert _report.verdict(entry, "paper[0]", 0.450) == (
        "not kept (a gain beyond noise, but not the best)")


def test_format_translations():
    text = _report.format_translations({"chat": [("кот", 0.91234), ("кошка", -0.5)]}, "csls", 10)
    header, line = text.splitlines()
    assert header == "# top 2 translations by CSLS-10 (score: CSLS-10)"
    assert line == "chat\tкот (0.912)  кошка (-0.500)"
    assert "score: cos" in _report.format_translations({"a": [("b", 1.0)]}, "nn", 10)
