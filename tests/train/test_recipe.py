"""The default training recipe: its rules (batch size, selection, patience), the time budget,
convergence, ensembles trained member by member, and what the command line records."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import tsexplain as tx
from tsexplain.cli import cli
from tsexplain.errors import DataWarning, TsExplainError
from tsexplain.train.loop import auto_patience
from tsexplain.train.recipe import MIN_VAL_PER_CLASS


def _data(n: int, seed: int = 0, length: int = 30) -> tx.data.Dataset:
    return tx.data.make_sensor_failure(
        n, min_length=length, max_length=length, failure_fraction=0.5, seed=seed
    )


def _tiny(name: str = "fcn", seed: int = 0) -> torch.nn.Module:
    return tx.models.build(name, 3, 2, seed=seed, **tx.models.model_class(name).tiny)


def test_published_batch_size():
    assert [tx.train.published_batch_size(n) for n in (5, 36, 100, 160, 3601)] == [1, 3, 10, 16, 16]


def test_selection_rule_counts_the_split_it_would_make():
    verdicts = {}
    for n in (560, 600, 640):
        ds = _data(n)
        ok, why = tx.train.selection_rule(ds)
        smallest = int(ds.split(0.9, seed=0)[1].class_counts().min())
        assert ok == (smallest >= MIN_VAL_PER_CLASS), (n, smallest, why)
        assert f" {smallest} case" in why if not ok else f"at least {smallest} " in why
        verdicts[n] = ok
        recipe = tx.train.default_recipe(ds)
        assert (recipe.val_fraction, recipe.monitor) == ((0.1, "val_loss") if ok else (0.0, "loss"))
        # the batch follows the series that train: all of them, or those left after the split
        n_train = n - (int(ds.split(0.9, seed=0)[1].n_cases) if ok else 0)
        assert recipe.batch_size == min(16, n_train // 10)
    assert verdicts[560] is False and verdicts[640] is True
    assert tx.train.default_recipe(_data(40)).batch_size == 4


def test_recipe_defaults_and_explicit_choices():
    r = tx.train.default_recipe(_data(40), "fcn")
    assert (r.epochs, r.lr, r.scheduler, r.plateau_patience, r.min_lr) == (
        2000,
        1e-3,
        "plateau",
        "auto",
        1e-4,
    )
    assert r.time_budget == 300.0 and r.normalise == "channel"
    assert tx.train.default_recipe(_data(40), "inception").epochs == 1500
    asked = tx.train.default_recipe(_data(40), val_fraction=0.25, epochs=7, batch_size=3)
    assert (asked.val_fraction, asked.monitor, asked.epochs, asked.batch_size) == (
        0.25,
        "val_loss",
        7,
        3,
    )
    assert tx.train.default_recipe(_data(600), val_fraction=0).monitor == "loss"
    with pytest.raises(TsExplainError, match="normalise"):
        tx.train.default_recipe(_data(40), normalise="minmax")
    with pytest.raises(TsExplainError, match="time_budget"):
        tx.train.default_recipe(_data(40), time_budget=-1)
    with pytest.raises(TsExplainError, match="epochs must be at least 1"):
        tx.train.default_recipe(_data(40), epochs=0)
    # data already z-normalised per series stays so by default; standardising it is refused
    zn = tx.data.znormalise(_data(40))
    assert tx.train.default_recipe(zn).normalise == "series"
    with pytest.raises(TsExplainError, match="already z-normalised"):
        tx.data.normalise(zn, "channel")


def test_auto_patience_reaches_the_published_fifty():
    assert [auto_patience(n) for n in (10, 90, 300, 1500, 5000)] == [5, 5, 10, 50, 50]


def test_selection_by_training_loss_keeps_the_weights_of_that_epoch():
    ds = _data(40)
    model = _tiny()
    run = tx.fit(model, ds, epochs=12, batch_size=8, lr=0.05, monitor="loss", progress=False)
    losses = [row["loss"] for row in run.history]
    assert run.best_epoch == int(np.argmin(losses)) + 1 and run.monitor == "loss"
    assert run.best_epoch < 12, "the test needs a run whose last epoch is not its best"
    # the same seed stopped at the kept epoch gives the kept weights exactly
    again = _tiny()
    tx.fit(again, ds, epochs=run.best_epoch, batch_size=8, lr=0.05, progress=False)
    for key, value in model.state_dict().items():
        assert torch.equal(value, again.state_dict()[key]), key


def test_time_budget_ends_training_and_says_so():
    run = tx.fit(_tiny(), _data(20), epochs=100_000, batch_size=4, time_budget=0.5, progress=False)
    assert run.stop_reason == "time_budget" and run.stopped_early
    assert 1 <= len(run.history) < 100_000
    one = tx.fit(_tiny(), _data(20), epochs=3, time_budget=1e-9, progress=False)
    assert len(one.history) == 1  # the first epoch always runs


def _stalled(**options) -> tx.train.FitResult:
    """lr 0 and one batch: the loss is the same every epoch, the rate at its floor at once."""
    return tx.fit(
        _tiny(),
        _data(20),
        batch_size=20,
        lr=0.0,
        min_lr=0.0,
        scheduler="plateau",
        progress=False,
        **options,
    )


@pytest.mark.parametrize("monitor", ["loss", "val_loss"])
def test_plateau_training_stops_once_converged(monitor):
    # with "val_loss" and no validation data the training loss says whether it progresses
    run = _stalled(epochs=500, plateau_patience=3, monitor=monitor)
    assert run.stop_reason == "converged" and len(run.history) == 4  # best, then 3 without


@pytest.mark.parametrize(("epochs", "patience"), [(90, 5), (360, 12)])
def test_auto_patience_is_applied_after_the_first_epoch(epochs, patience):
    run = _stalled(epochs=epochs, plateau_patience="auto")
    assert auto_patience(epochs) == patience
    assert run.stop_reason == "converged" and len(run.history) == patience + 1


def test_bad_loop_options_are_refused():
    ds = _data(20)
    with pytest.raises(TsExplainError, match="time_budget"):
        tx.fit(_tiny(), ds, epochs=1, time_budget=0, progress=False)
    with pytest.raises(TsExplainError, match="plateau_patience"):
        tx.fit(_tiny(), ds, epochs=1, plateau_patience="soon", progress=False)
    with pytest.raises(TsExplainError, match="needs validation data"):
        tx.fit(_tiny(), ds, epochs=1, monitor="val_accuracy", progress=False)


def test_ensemble_members_train_independently_with_their_own_seeds():
    ds = _data(24)
    model = _tiny("inception_ensemble")
    before = [m.state_dict()["fc.weight"].clone() for m in model.members]
    assert not torch.equal(before[0], before[1])  # initialised independently
    run = tx.fit(model, ds, epochs=3, batch_size=8, progress=False)
    assert len(run.members) == 2 and {r["member"] for r in run.history} == {0.0, 1.0}
    # member i is exactly a lone network with member i's start, trained with seed + i
    for i, member in enumerate(model.members):
        alone = tx.models.build("inception", 3, 2, **tx.models.model_class("inception").tiny)
        fresh = _tiny("inception_ensemble").members[i]
        alone.load_state_dict(fresh.state_dict())
        tx.fit(alone, ds, epochs=3, batch_size=8, seed=i, progress=False)
        for key, value in member.state_dict().items():
            assert torch.equal(value, alone.state_dict()[key]), (i, key)
    assert model.meta["classes"] == list(ds.classes)
    shared = tx.fit(
        _tiny("inception_ensemble"), ds, epochs=100_000, time_budget=2.0, progress=False
    )
    for r in shared.members:  # each gets half: it stops before an epoch would pass 1 s
        longest = max(row["seconds"] for row in r.history)
        assert r.stop_reason == "time_budget" and r.seconds <= 1.0 + longest


def _write(tmp_path, ds, name="d.npz"):
    path = tmp_path / name
    ds.save(path)
    return path


def test_cli_default_recipe_is_recorded_with_the_checkpoint(tmp_path):
    ds = _data(40)
    path = _write(tmp_path, ds)
    out = tmp_path / "run"
    res = CliRunner().invoke(
        cli,
        [
            "train",
            "--data",
            str(path),
            "--out",
            str(out),
            "--model",
            "fcn",
            "--param",
            "filters=[4,4,4]",
            "--epochs",
            "4",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "selection by training loss" in res.stdout and "batch 4" in res.stdout
    assert "no validation split" in res.stdout
    model = tx.load_model(out / "model")
    training = model.meta["training"]
    assert training["monitor"] == "loss" and training["val_fraction"] == 0.0
    assert training["batch_size"] == 4 and training["epochs_run"] == 4
    assert training["time_budget"] == 300.0 and "every series trains" in training["rule"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["recipe"]["rule"] == training["rule"] and metrics["training"]["history"]
    assert metrics["training_series"]["accuracy"] >= 0  # scored on the series it trained on
    # the normalisation and its statistics travel with the model
    mean, std = tx.data.channel_statistics(ds)
    assert model.meta["normalise"]["kind"] == "channel"
    np.testing.assert_allclose(model.meta["normalise"]["mean"], mean)
    np.testing.assert_allclose(model.meta["normalise"]["std"], std)


def test_cli_small_validation_split_warns_and_goes_on(tmp_path):
    path = _write(tmp_path, _data(40))
    res = CliRunner().invoke(
        cli,
        [
            "train",
            "--data",
            str(path),
            "--out",
            str(tmp_path / "o"),
            "--val-fraction",
            "0.1",
            "--epochs",
            "1",
            "--param",
            "filters=[4,4,4]",
        ],
    )
    assert res.exit_code == 0, res.output
    warned = [ln for ln in res.stderr.splitlines() if ln.startswith("warning:")]
    assert len(warned) == 1 and "fewer than 5 cases" in warned[0], res.stderr
    recorded = tx.load_model(tmp_path / "o" / "model").meta["training"]["warnings"]
    assert recorded == [warned[0].removeprefix("warning: ")]


def test_validation_warnings_name_the_small_classes():
    tr, va = _data(60).split(0.9, seed=0)
    (message,) = tx.train.validation_warnings(va, tr)
    assert "'Normal' 3" in message and "'Sensor Failure' 3" in message
    assert tx.train.validation_warnings(_data(200)) == []
    # a class the data does not hold at all is no concern of the split
    absent = tx.data.Dataset(va.X, va.y, classes=("Normal", "Sensor Failure", "Other"))
    (message,) = tx.train.validation_warnings(absent, absent)
    assert "Other" not in message


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--normalise", "none", "--znormalise"], "--znormalise is --normalise series"),
        (["--val-fraction", "0.2", "--val-data", "VAL"], "give one"),
        (["--normalise", "minmax"], "--normalise"),
        (["--time-budget", "-5"], "--time-budget"),
        (["--patience", "3"], "add --val-fraction F or --val-data PATH"),
    ],
)
def test_cli_recipe_option_errors(tmp_path, args, match):
    path = _write(tmp_path, _data(20))
    args = [str(path) if a == "VAL" else a for a in args]
    res = CliRunner().invoke(
        cli, ["train", "--data", str(path), "--out", str(tmp_path / "o"), *args]
    )
    assert res.exit_code == 2 and match in res.stderr, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:")
    assert not (tmp_path / "o").exists()


def test_train_with_recipe_warns_splits_and_records():
    ds = _data(40)
    offset = ds.X + 5.0 * ds.y[:, None, None] * (ds.X != 0)  # the class is the level
    levelled = tx.data.Dataset(offset, ds.y, lengths=ds.lengths, classes=ds.classes)
    recipe = tx.train.default_recipe(
        levelled, "fcn", epochs=2, normalise="series", val_fraction=0.25
    )
    with pytest.warns(DataWarning, match="level and scale") as caught:
        run = tx.train.train_with_recipe(_tiny(), levelled, recipe, progress=False)
    assert all(issubclass(w.category, DataWarning) for w in caught)
    assert run.val is not None and run.val.n_cases == 10 and run.train.n_cases == 30
    assert run.scored is run.val and run.val.meta.get("znormalised")
    training = run.model.meta["training"]
    assert training["monitor"] == "val_loss" and training["epochs_run"] == 2
    assert any("level and scale" in w for w in training["warnings"])
    # validation data of its own: no split, and it picks the epoch
    given = tx.train.train_with_recipe(
        _tiny(), ds, tx.train.default_recipe(ds, epochs=1), val=_data(10, seed=5), progress=False
    )
    assert given.train.n_cases == 40 and given.recipe.monitor == "val_loss"
    assert "10 validation series given" in given.recipe.rule
    with pytest.raises(TsExplainError, match="early stopping watches the validation loss"):
        tx.train.train_with_recipe(
            _tiny(), ds, tx.train.default_recipe(ds, epochs=1), patience=2, progress=False
        )


def test_the_command_lines_rules_hold_for_python_users(tmp_path):
    """What ``tsexplain train`` refuses or reports comes from the library, so a Python user
    gets the same rule and the same message."""
    ds = _data(40)
    recipe = tx.train.default_recipe(ds, "fcn", epochs=1)
    two = tx.data.Dataset(ds.X[:, :2], ds.y, lengths=ds.lengths, classes=ds.classes)
    with pytest.raises(
        TsExplainError, match=r"^the validation data: 2 channel\(s\), but the training data has 3"
    ):
        tx.train.train_with_recipe(_tiny(), ds, recipe, val=two, progress=False)
    # the command line names the files
    with pytest.raises(TsExplainError, match=r"^two\.npz: 2 channel\(s\), but train\.npz has 3"):
        tx.train.validation_data(two, ds, names=("two.npz", "train.npz"))
    alien = tx.data.Dataset(ds.X, ds.y, lengths=ds.lengths, classes=("Normal", "Alien"))
    with pytest.raises(TsExplainError, match="Alien.*the classes of the training data"):
        tx.train.validation_data(alien, ds)
    # the validation data is put in the training data's class order
    flipped = tx.data.Dataset(ds.X, 1 - ds.y, lengths=ds.lengths, classes=ds.classes[::-1])
    assert (tx.train.validation_data(flipped, ds).y == ds.y).all()
    # option conflicts are refused before anything trains
    with pytest.raises(TsExplainError, match="choose one"):
        tx.train.check_run(recipe, sampling="balanced", class_weight="balanced")
    with pytest.raises(TsExplainError, match="add --val-fraction F or --val-data PATH"):
        tx.train.check_run(recipe, patience=3)
    tx.train.check_run(recipe, validated=True, patience=3)  # validation data of its own
    # why training stopped, in the words the command prints
    result = tx.train.train_with_recipe(_tiny(), ds, recipe, progress=False).result
    assert result.describe() == "1 epochs (all epochs run), kept epoch 1 by training loss"
