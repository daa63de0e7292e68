"""Classifiers with predict_proba (scikit-learn here) and pickled models, from Python and the CLI."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.linear_model import LogisticRegression

import tsexplain as tx
from tsexplain.cli import cli
from tsexplain.errors import TsExplainError
from tsexplain.models.foreign import ProbaClassifier, as_classifier


@pytest.fixture(scope="module")
def data() -> tx.data.Dataset:
    return tx.data.make_sensor_failure(
        60, min_length=40, max_length=40, failure_fraction=0.4, seed=3
    )


def _fit(ds: tx.data.Dataset, names: bool = False) -> LogisticRegression:
    y = np.asarray(ds.classes)[ds.y] if names else ds.y
    return LogisticRegression(max_iter=500).fit(ds.X.reshape(ds.n_cases, -1), y)


def test_occlusion_of_a_classifier_equals_that_of_its_probabilities(data) -> None:
    fitted = _fit(data)
    clf = as_classifier(fitted)
    assert isinstance(clf, ProbaClassifier) and clf.layout == "flat" and clf.meta == {}
    few = data.subset(np.arange(6))
    got = tx.explain(clf, few, method="occlusion").attributions
    manual = lambda x: fitted.predict_proba(x.reshape(len(x), -1))  # noqa: E731
    want = tx.explain(manual, few, method="occlusion").attributions
    assert got.shape == few.X.shape and np.abs(got - want).max() <= 1e-12


def test_explain_and_evaluate_take_the_fitted_classifier(data) -> None:
    fitted = _fit(data)
    few = data.subset(np.arange(4))
    want = tx.explain(as_classifier(fitted), few, method="occlusion")
    got = tx.explain(fitted, few, method="occlusion")
    np.testing.assert_array_equal(got.attributions, want.attributions)
    table = tx.evaluate(fitted, few, got, metrics=["gini", "deletion_auc"], n_boot=10)
    assert len(table.rows) > 0


def test_modules_and_callables_pass_through(data) -> None:
    net = tx.models.build("causal_cnn", 3, 2, seed=0)
    assert as_classifier(net) is net
    f = lambda x: np.full((len(x), 2), 0.5)  # noqa: E731
    assert as_classifier(f) is f


def test_text_classes_order_the_data(data) -> None:
    clf = as_classifier(_fit(data, names=True))
    assert clf.meta == {"classes": sorted(data.classes)}
    assert tx.prepare_for(clf, data).classes == tuple(sorted(data.classes))


def test_gradient_method_names_the_methods_that_work(data) -> None:
    with pytest.raises(TsExplainError, match="occlusion, shap_segments"):
        tx.explain(as_classifier(_fit(data)), data, method="saliency")


def test_wrong_length_names_the_fix(data) -> None:
    clf = as_classifier(_fit(data))
    with pytest.raises(TsExplainError, match="fitted on 120 features.*length it was fitted on"):
        clf(data.X[:2, :, :30])


class _Scores:
    """A classifier whose predict_proba returns something else."""

    def __init__(self, out: np.ndarray) -> None:
        self.out = out
        self.classes_ = np.array([0, 1])

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return np.repeat(self.out[None], len(X), axis=0)


@pytest.mark.parametrize(
    ("out", "match"),
    [
        (np.array([3.0, -1.0]), "must return probabilities.*softmax"),
        (np.array([0.2, 0.3, 0.5]), r"must return shape \(2, 2\)"),
    ],
)
def test_bad_predict_proba_output(out, match) -> None:
    X = np.zeros((2, 1, 4), dtype=np.float32)
    with pytest.raises(TsExplainError, match=match):
        ProbaClassifier(_Scores(out), layout="series")(X)


def test_object_without_predict_proba() -> None:
    with pytest.raises(TsExplainError, match="predict_proba"):
        ProbaClassifier(object())


def test_pickle_needs_the_opt_in(data, tmp_path) -> None:
    path = tmp_path / "clf.pkl"
    path.write_bytes(pickle.dumps(_fit(data)))
    with pytest.raises(TsExplainError, match="runs whatever code.*--trust-pickle"):
        tx.load_model(path)
    model = tx.load_model(path, trust_pickle=True)
    assert isinstance(model, ProbaClassifier)
    assert model(data.X[:3]).shape == (3, 2)


def test_cli_explains_and_evaluates_a_pickled_classifier(data, tmp_path) -> None:
    runner = CliRunner()
    data_path = data.save(tmp_path / "d.npz")
    model_path = tmp_path / "clf.pkl"
    model_path.write_bytes(pickle.dumps(_fit(data, names=True)))
    base = ["--model", str(model_path), "--data", str(data_path), "--cases", "0:8"]
    res = runner.invoke(cli, ["explain", *base, "--method", "occlusion", "--out", "x"])
    assert res.exit_code == 2, res.output
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "--trust-pickle" in lines[0]
    for method in ("occlusion", "shap_segments"):
        out = tmp_path / f"{method}.npz"
        res = runner.invoke(
            cli, ["explain", *base, "--trust-pickle", "--method", method, "--out", str(out)]
        )
        assert res.exit_code == 0, res.output
        res = runner.invoke(cli, ["evaluate", *base, "--trust-pickle", "--explanations", str(out)])
        assert res.exit_code == 0, res.output
        assert "deletion" in res.output or "insertion" in res.output, res.output


def test_cli_benchmarks_and_reports_a_pickled_classifier(data, tmp_path) -> None:
    runner = CliRunner()
    data_path = data.save(tmp_path / "d.npz")
    model_path = tmp_path / "clf.pkl"
    model_path.write_bytes(pickle.dumps(_fit(data)))
    base = ["--model", str(model_path), "--data", str(data_path), "--trust-pickle"]
    res = runner.invoke(
        cli, ["benchmark", *base, "--max-cases", "6", "--out", str(tmp_path / "bench")]
    )
    assert res.exit_code == 0, res.output
    assert "recommended: " in res.output and "skipped saliency" in res.output
    res = runner.invoke(
        cli, ["report", *base, "--max-cases", "4", "--out", str(tmp_path / "r.html")]
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "r.html").stat().st_size > 10_000


def test_a_store_is_not_resumed_under_other_learned_weights(data, tmp_path) -> None:
    """The store records what a pickled classifier learned (its file), not only its class: a
    rerun with a classifier trained otherwise is refused, the same one resumes."""
    pytest.importorskip("zarr")
    from tsexplain.scale import explain_to_store

    data_path = data.save(tmp_path / "d.npz")
    model_path = tmp_path / "clf.pkl"
    model_path.write_bytes(pickle.dumps(_fit(data)))
    store = tmp_path / "s.zarr"
    model = tx.load_model(model_path, trust_pickle=True)
    explain_to_store(model, data_path, store, "occlusion", chunk_size=30, window=10)
    again = explain_to_store(
        tx.load_model(model_path, trust_pickle=True), data_path, store, "occlusion",
        chunk_size=30, window=10,
    )  # fmt: skip
    assert again.computed == 0  # the same classifier, loaded again: complete already
    other = LogisticRegression(max_iter=500, C=0.01).fit(data.X.reshape(data.n_cases, -1), data.y)
    model_path.write_bytes(pickle.dumps(other))
    with pytest.raises(TsExplainError, match="holds a run of another job.*model: stored"):
        explain_to_store(
            tx.load_model(model_path, trust_pickle=True), data_path, store, "occlusion",
            chunk_size=30, window=10,
        )  # fmt: skip
    # a classifier given in Python (no file) is known by what it learned too
    with pytest.raises(TsExplainError, match="holds a run of another job.*model: stored"):
        explain_to_store(
            as_classifier(other), data_path, store, "occlusion", chunk_size=30,
            window=10,
        )  # fmt: skip


@pytest.mark.parametrize("error", [ValueError("bad state"), TypeError("no"), ImportError("x")])
def test_a_pickle_that_fails_to_load_is_one_message(tmp_path, monkeypatch, error) -> None:
    path = tmp_path / "clf.pkl"
    path.write_bytes(pickle.dumps({"a": 1}))

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(pickle, "load", fail)
    with pytest.raises(TsExplainError, match=f"cannot unpickle \\({type(error).__name__}"):
        tx.load_model(path, trust_pickle=True)
