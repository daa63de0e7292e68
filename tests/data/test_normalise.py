"""Normalisation choices: statistics by hand, padding, idempotence, what a model records and
applies to later files, and the warnings' rules."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

import tsexplain as tx
from tsexplain.cli import cli
from tsexplain.errors import TsExplainError


def _padded() -> tx.data.Dataset:
    X = np.zeros((2, 2, 4), dtype=np.float32)
    X[0, :, :4] = [[1, 2, 3, 4], [10, 10, 10, 10]]
    X[1, :, :2] = [[5, 7], [10, 10]]
    return tx.data.Dataset(X, np.array([0, 1]), lengths=np.array([4, 2]))


def test_channel_statistics_by_hand_over_real_steps_only():
    mean, std = tx.data.channel_statistics(_padded())
    values = np.array([1, 2, 3, 4, 5, 7], dtype=np.float64)
    np.testing.assert_allclose(mean, [values.mean(), 10.0])
    # channel 1 is constant: reported as 1.0, so it is only centred
    np.testing.assert_allclose(std, [values.std(), 1.0])


def test_standardise_keeps_padding_zero_and_is_idempotent():
    ds = _padded()
    out, spec = tx.data.normalise(ds, "channel")
    assert out.X[1, :, 2:].tolist() == [[0, 0], [0, 0]]
    np.testing.assert_allclose(out.X[0, 1], 0.0)
    np.testing.assert_allclose(out.X[0, 0, 0], (1 - spec["mean"][0]) / spec["std"][0], rtol=1e-6)
    assert tx.data.apply_normalisation(out, spec) is out
    other = dict(spec, mean=[0.0, 0.0])
    with pytest.raises(TsExplainError, match="other statistics"):
        tx.data.apply_normalisation(out, other)
    with pytest.raises(TsExplainError, match="2 finite numbers"):
        tx.data.standardise(ds, [1.0], [1.0, 1.0])


def test_series_and_none_choices():
    ds = _padded()
    series, spec = tx.data.normalise(ds, "series")
    assert spec == {"kind": "series"}
    np.testing.assert_allclose(series.X, tx.data.znormalise(ds).X)
    none, spec = tx.data.normalise(ds, "none")
    assert spec == {"kind": "none"} and none is ds


def test_fit_records_the_statistics_and_prepare_for_applies_them():
    train = tx.data.make_sensor_failure(30, seed=0)
    test = tx.data.make_sensor_failure(10, seed=1)
    normed, spec = tx.data.normalise(train, "channel")
    model = tx.models.build("fcn", 3, 2, seed=0, filters=(4, 4, 4))
    tx.fit(model, normed, epochs=1, progress=False)
    assert model.meta["normalise"] == spec
    prepared = tx.prepare_for(model, test)
    np.testing.assert_allclose(prepared.X, tx.data.standardise(test, spec["mean"], spec["std"]).X)
    # the test split is standardised with the training statistics, not its own
    assert not np.allclose(prepared.X, tx.data.normalise(test, "channel")[0].X)
    assert tx.prepare_for(model, prepared) is prepared


def test_saved_statistics_are_applied_at_explain_time(tmp_path):
    train = tx.data.make_sensor_failure(40, seed=0)
    raw = tx.data.make_sensor_failure(6, seed=1)
    (tmp_path / "in").mkdir()
    train.save(tmp_path / "in" / "train.npz")
    raw.save(tmp_path / "in" / "raw.npz")
    res = CliRunner().invoke(
        cli,
        [
            "train",
            "--data",
            str(tmp_path / "in" / "train.npz"),
            "--out",
            str(tmp_path / "m"),
            "--epochs",
            "2",
            "--param",
            "filters=[4,4,4]",
        ],
    )
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(
        cli,
        [
            "explain",
            "--model",
            str(tmp_path / "m" / "model"),
            "--data",
            str(tmp_path / "in" / "raw.npz"),
            "--method",
            "saliency",
            "--out",
            str(tmp_path / "e.npz"),
        ],
    )
    assert res.exit_code == 0, res.output
    model = tx.load_model(tmp_path / "m" / "model")
    spec = model.meta["normalise"]
    by_hand = tx.data.standardise(raw, spec["mean"], spec["std"])
    model.meta.pop("normalise")  # explain the hand-standardised data with a bare model
    expected = tx.explain(model, by_hand, method="saliency").attributions
    got = np.load(tmp_path / "e.npz")["attributions"]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


def _levels(n: int = 60, length: int = 40) -> tx.data.Dataset:
    rng = np.random.default_rng(0)
    y = np.arange(n) % 2
    X = rng.normal(size=(n, 1, length)) + 3.0 * y[:, None, None]  # the class is the level
    return tx.data.Dataset(X.astype(np.float32), y)


def test_series_normalisation_warns_when_level_names_the_class():
    (message,) = tx.data.normalisation_warnings(_levels(), "series")
    assert "level and scale" in message and "majority class 50%" in message
    assert tx.data.normalisation_warnings(_levels(), "channel") == []
    # the same data with the level removed: nothing to warn about
    shapes = tx.data.znormalise(_levels())
    assert tx.data.normalisation_warnings(shapes, "series") == []


def test_series_normalisation_warns_on_very_short_series_and_flat_channels():
    ds = _levels(length=12)
    X = ds.X.copy()
    X = np.concatenate([X, np.zeros_like(X)], axis=1)
    X[: len(X) // 2, 1] = 1.0 + np.arange(12)  # constant (0) in half of the cases
    mixed = tx.data.Dataset(X, ds.y)
    text = " | ".join(tx.data.normalisation_warnings(tx.data.znormalise(mixed), "series"))
    assert "very short (median 12 steps)" in text
    text = " | ".join(tx.data.normalisation_warnings(mixed, "series"))
    assert "constant within 50% of series" in text


def test_constant_channel_and_unequal_scales():
    ds = _levels()
    X = np.concatenate([ds.X, np.full_like(ds.X, 2.0), 1000 * ds.X], axis=1)
    wide = tx.data.Dataset(X, ds.y)
    text = " | ".join(tx.data.normalisation_warnings(wide, "none"))
    assert "constant over the whole training set" in text and "differ by a factor" in text
    text = " | ".join(tx.data.normalisation_warnings(wide, "channel"))
    assert "constant over the whole" in text and "factor" not in text


def test_short_multivariate_levels_warn_through_the_cli(tmp_path):
    one = _levels(length=10)
    ds = tx.data.Dataset(np.concatenate([one.X, 0.5 * one.X[::-1]], axis=1), one.y)
    ds.save(tmp_path / "short.npz")
    res = CliRunner().invoke(
        cli,
        [
            "train",
            "--data",
            str(tmp_path / "short.npz"),
            "--out",
            str(tmp_path / "o"),
            "--normalise",
            "series",
            "--epochs",
            "1",
            "--param",
            "filters=[4,4,4]",
        ],
    )
    assert res.exit_code == 0, res.output
    warned = [ln for ln in res.stderr.splitlines() if ln.startswith("warning:")]
    assert any("level and scale" in w for w in warned) and any("very short" in w for w in warned)


def test_old_checkpoints_that_say_znormalise_still_z_normalise():
    model = tx.models.build("fcn", 1, 2, filters=(4, 4, 4))
    model.meta = {"znormalise": True}
    prepared = tx.prepare_for(model, _levels())
    np.testing.assert_allclose(prepared.X, tx.data.znormalise(_levels()).X)


@pytest.mark.parametrize(
    ("normalise", "match"),
    [
        ({"kind": "channel", "mean": [0.0, 1.0], "std": [1.0]}, "meta.normalise"),
        ({"kind": "channel", "std": [1.0]}, "meta.normalise"),
        ({"kind": "channel", "mean": [0.0], "std": [0.0]}, "meta.normalise"),
        ({"kind": "zscore"}, "meta.normalise"),
        ("channel", "meta.normalise"),
    ],
)
def test_a_checkpoint_with_bad_normalisation_is_refused_on_loading(tmp_path, normalise, match):
    import json

    model = tx.models.build("fcn", 1, 2, filters=(4, 4, 4))
    tx.save_model(model, tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    config["meta"]["normalise"] = normalise
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(TsExplainError, match=match):
        tx.load_model(tmp_path / "m")


def test_mismatched_channels_are_named_as_such():
    model = tx.models.build("fcn", 3, 2, filters=(4, 4, 4))
    model.meta = {"normalise": {"kind": "channel", "mean": [0.0] * 3, "std": [1.0] * 3}}
    with pytest.raises(TsExplainError, match="has 1 channel.s. but the model expects 3"):
        tx.prepare_for(model, _levels())


def test_scales_spread_over_orders_of_magnitude_suggest_series():
    rng = np.random.default_rng(1)
    y = np.arange(60) % 2
    shape = np.sin(np.linspace(0, 6, 40))[None, None, :] * (1 + y[:, None, None])
    scale = 10.0 ** rng.uniform(-2, 2, size=(60, 1, 1))  # unrelated to the class
    X = (shape + 0.1 * rng.normal(size=(60, 1, 40))) * scale
    spread = tx.data.Dataset(X.astype(np.float32), y)
    (message,) = tx.data.normalisation_warnings(spread, "channel")
    assert "differ by a factor of" in message and "--normalise series" in message
    assert tx.data.normalisation_warnings(spread, "series") == []
    # the same spread where the scale is the class: nothing to suggest
    by_class = tx.data.Dataset((X / scale * 10.0 ** (2 * y[:, None, None])).astype(np.float32), y)
    assert not any(
        "differ by a factor" in w for w in tx.data.normalisation_warnings(by_class, "channel")
    )
