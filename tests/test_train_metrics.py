"""Classifier report: macro-F1 over the classes present, per-class rows for every class, and
warnings when the classifier collapses onto one class."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from sklearn.metrics import f1_score

import tsexplain as tx
from tsexplain.errors import TsExplainError

BEATS = ["N", "S", "V", "F", "Q"]


def test_macro_f1_averages_over_the_classes_present():
    # a record with normal and ventricular beats only, every beat classified correctly
    y = np.array([0] * 30 + [2] * 5)
    rep = tx.classification_report(y, y.copy(), BEATS)
    assert rep["macro_f1"] == 1.0  # scikit-learn's macro over all five classes gives 0.4
    assert rep["macro_f1_classes"] == ["N", "V"]
    assert list(rep["per_class"]) == BEATS  # a row for every class
    absent = rep["per_class"]["S"]
    assert absent == {
        "precision": None,
        "recall": None,
        "f1": None,
        "support": 0,
        "in_macro_f1": False,
    }
    assert rep["per_class"]["V"]["in_macro_f1"] is True
    assert rep["warnings"] == []
    json.dumps(rep)  # plain JSON


def test_macro_f1_matches_scikit_learn_on_the_present_labels():
    rng = np.random.default_rng(0)
    y = rng.choice([0, 1, 3], 200)
    p = np.where(rng.random(200) < 0.7, y, rng.integers(0, 5, 200))
    rep = tx.classification_report(y, p, BEATS)
    expected = f1_score(y, p, labels=[0, 1, 3], average="macro", zero_division=0)
    assert rep["macro_f1"] == pytest.approx(expected)
    assert rep["macro_f1_classes"] == ["N", "S", "F"]
    # predictions into an absent class are wrong predictions: precision 0, recall undefined
    assert rep["per_class"]["V"]["precision"] == 0.0 and rep["per_class"]["V"]["recall"] is None
    assert sum(r["support"] for r in rep["per_class"].values()) == 200


def test_a_model_that_predicts_one_class_for_every_case_is_flagged(caplog):
    y = np.array([0] * 40 + [1] * 7)
    with caplog.at_level(logging.WARNING, logger="tsexplain.train.metrics"):
        rep = tx.classification_report(y, np.zeros_like(y), ["N", "A"])
    message = "the model predicts 'N' for every case; recall of 'A' is 0/7"
    assert rep["warnings"] == [message]
    assert [r.getMessage() for r in caplog.records] == [message]
    assert caplog.records[0].levelno == logging.WARNING
    assert rep["accuracy"] == pytest.approx(40 / 47)
    assert rep["per_class"]["A"] == {
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "support": 7,
        "in_macro_f1": True,
    }


def test_every_missed_class_is_named_when_the_model_predicts_one_class():
    y = np.array([0] * 10 + [1] * 3 + [2] * 4)
    rep = tx.classification_report(y, np.full_like(y, 2), BEATS)
    assert rep["warnings"] == [
        "the model predicts 'V' for every case; recall of 'N' is 0/10; recall of 'S' is 0/3"
    ]


def test_a_present_class_that_is_never_recognised_is_flagged():
    y = np.array([0, 0, 0, 1, 1, 2, 2])
    p = np.array([0, 0, 1, 0, 0, 2, 2])
    rep = tx.classification_report(y, p, ["N", "A", "V"])
    assert rep["warnings"] == ["no case of 'A' is recognised: recall of 'A' is 0/2"]


def test_no_warning_for_a_good_classifier_or_one_class_data():
    y = np.array([0, 0, 1, 1])
    assert tx.classification_report(y, np.array([0, 1, 1, 1]), ["a", "b"])["warnings"] == []
    one = np.zeros(5, dtype=int)
    assert tx.classification_report(one, one, ["a", "b"])["warnings"] == []


def test_bad_label_arrays_are_refused():
    with pytest.raises(TsExplainError, match="non-empty"):
        tx.classification_report(np.array([], dtype=int), np.array([], dtype=int), ["a"])
    with pytest.raises(TsExplainError, match=r"shapes \(3,\) and \(2,\)"):
        tx.classification_report(np.array([0, 1, 0]), np.array([0, 1]), ["a", "b"])
    with pytest.raises(TsExplainError, match=r"y_pred holds class indices outside 0..1"):
        tx.classification_report(np.array([0, 1]), np.array([0, 2]), ["a", "b"])
