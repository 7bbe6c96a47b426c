"""The sparsity experiment: the matched-accuracy rule, and independent, cached, checked bases."""

import dataclasses
import json
import os

import numpy as np
import pytest
from keras_seminar.experiments import _report, sparsity, stats
from keras_seminar.experiments._sparsity_render import render, select

REF = [0.970, 0.975, 0.980, 0.972, 0.978]  # the unregularized nets' test accuracy, seeds 0-4


def _runs(penalty, lam, offsets, sparsity_value):
    return [{"arm": {"phase": "frontier", "dataset": "mnist", "penalty": penalty, "lambda": lam}, "seed": s,
             "test_accuracy": acc + d, "pruned_accuracy": acc + d, "sparsity": sparsity_value + 0.001 * s,
             "magnitude": {"0.5": acc, "0.9": acc - 0.05}, "epochs_run": 3, "val_loss": [1.0, 0.9, 0.8]}
            for s, (acc, d) in enumerate(zip(REF, offsets))]


def _results():
    """l1: 1e-5 and 1e-4 within +-0.3 points of 'none' (TOST), 3e-4 within on average but too noisy
    to show it, 1e-3 a point lower; lq03 1e-5 within; l2: no lambda within the match."""
    runs = _runs("none", 0.0, [0.0] * 5, 0.10)
    runs += _runs("l1", 1e-5, [0.0005, -0.0005, 0.0, 0.0005, -0.0005], 0.50)
    runs += _runs("l1", 1e-4, [0.001, 0.0, -0.001, 0.0005, 0.0], 0.90)
    runs += _runs("l1", 3e-4, [0.01, -0.01, 0.008, -0.009, 0.0], 0.95)
    runs += _runs("l1", 1e-3, [-0.01, -0.011, -0.009, -0.01, -0.012], 0.99)
    runs += _runs("lq03", 1e-5, [0.0, 0.0005, -0.0005, 0.0, 0.0], 0.60)
    runs += _runs("l2", 1e-4, [-0.005, -0.006, -0.004, -0.005, -0.006], 0.30)
    return {"runs": runs, "seeds": list(range(5))}


def test_matched_accuracy_rule_picks_the_largest_equivalent_lambda(tmp_path):
    config = dataclasses.replace(sparsity.Config(), datasets=("mnist",), prune_fractions=(0.5, 0.9),
                                 grid={"none": (0.0,), "l1": (1e-5, 1e-4, 3e-4, 1e-3), "lq03": (1e-5,),
                                       "l2": (1e-4,)})
    results = _results()
    front = _report.group_runs(results, ("dataset", "penalty", "lambda"), phase="frontier")
    matched = select(config, front, "mnist", lambda a, b: stats.equivalence(a, b, config.match_margin).equivalent)
    assert matched["l1"][0] == 1e-4  # not 3e-4: its mean change is ~0 but TOST cannot show it
    assert "l2" not in matched and matched["none + magnitude pruning"][2] == 0.5  # p = 0.9 loses 5 points
    loose = select(config, front, "mnist", lambda a, b: np.mean(np.subtract(a, b)) >= -0.01)
    assert loose["l1"][0] == 3e-4 and loose["l2"][0] == 1e-4  # 1e-3 loses 1.04 points: out
    report = _report.Report("sparsity", str(tmp_path))
    render(config, results, report)
    text = "\n".join(f"- {f}" for f in report.findings) + "\n".join(report.sections)
    table = text.split("### Sparsity at matched pruned accuracy")[1].split("###")[0]
    assert "| mnist | l1 | 0.0001 | 90.20 ±" in table and "| mnist | l2 | - | none qualifies |" in table
    assert "- mnist, sparsity at matched pruned accuracy (± 0.3 points, TOST): l1 (lambda 0.0001) is higher " \
           "than lq03 (lambda 1e-05) (paired difference +30.00" in text  # 'none', the reference, is no competitor
    assert "- mnist, matched pruned accuracy (± 0.3 points, TOST): no lambda of l2 is shown equivalent" in text
    assert "TOST" in text and "n = 5 seeds per setting on the full data sets" in text


@pytest.fixture
def tiny(tmp_path):
    config = dataclasses.replace(sparsity.Sparsity.config, hidden=(16,), base_epochs=1, train_limit=64,
                                 test_limit=64)
    return config, str(tmp_path / sparsity.BASES)


def _kernel(model):
    return model.get_weights()[0]


def test_each_seed_trains_its_own_base_and_a_cached_one_is_reused(tiny):
    config, folder = tiny
    m0, options, r0 = sparsity.base(config, "mnist", "mlp", 0, folder)
    m1, _, r1 = sparsity.base(config, "mnist", "mlp", 1, folder)
    assert options == {"hidden": [16]} and r0["pretrained"] == "sparsity_bases/mlp_mnist_s0/mlp_mnist_s0.keras"
    assert r0["pretrained_sha256"] != r1["pretrained_sha256"] and not np.allclose(_kernel(m0), _kernel(m1))
    path = os.path.join(folder, "mlp_mnist_s0", "mlp_mnist_s0.keras")
    stamp = os.stat(path).st_mtime_ns
    again, _, r_again = sparsity.base(config, "mnist", "mlp", 0, folder)
    assert os.stat(path).st_mtime_ns == stamp and r_again == r0  # not trained or rewritten
    np.testing.assert_array_equal(_kernel(again), _kernel(m0))


def test_a_cached_base_with_a_wrong_sha256_or_another_config_is_trained_again(tiny, capsys):
    config, folder = tiny
    _, _, first = sparsity.base(config, "mnist", "mlp", 0, folder)
    path = os.path.join(folder, "mlp_mnist_s0", "mlp_mnist_s0.keras")
    with open(path, "ab") as f:
        f.write(b"\0")  # the file no longer has the sha256 its card holds
    state = os.path.join(folder, "mlp_mnist_s0", "backup", "state.json")
    os.utime(state, ns=(0, 0))
    _, _, again = sparsity.base(config, "mnist", "mlp", 0, folder)
    assert "is not this run's, training it again" in capsys.readouterr().out
    assert os.stat(state).st_mtime_ns > 0  # an epoch trained again: neither reused nor restored from its backup
    card = json.load(open(os.path.join(folder, "mlp_mnist_s0", "mlp_mnist_s0.json")))
    assert card["sha256"] == again["pretrained_sha256"] and card["plan"]["training"]["seed"] == 0
    wider = dataclasses.replace(config, hidden=(24,))  # the same folder, another config
    model, options, _ = sparsity.base(wider, "mnist", "mlp", 0, folder)
    assert "training it again" in capsys.readouterr().out
    assert options == {"hidden": [24]} and _kernel(model).shape == (784, 24)
