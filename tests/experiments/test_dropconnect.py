"""The dropconnect experiment: its nets draw the configured DropConnect masks, a bad mask is refused
by name, and the report states the mask rule of the file it draws (older files: one per batch)."""

import dataclasses
import json
import pathlib

import pytest
from keras_seminar.experiments import _config, _run
from keras_seminar.experiments.dropconnect import Config, DropConnect, build

from keras_seminar.errors import UsageError
from keras_seminar.layers import DropConnectDense

COMMITTED = pathlib.Path(__file__).resolve().parents[2] / "reports" / "dropconnect.json"


def test_config_asks_for_a_long_budget_and_masks_the_cpu_can_draw():
    # Per-example masks (Wan et al.) are `--set mask=per_example`: ~50x a step on 2 CPU cores.
    config = DropConnect.config
    assert (config.mask, config.max_epochs, config.patience) == ("per_batch", 100, 10)


@pytest.mark.parametrize("mask", ["per_example", "per_batch"])
def test_the_nets_draw_the_configured_masks(mask):
    config = dataclasses.replace(Config(), hidden=(8, 4), mask=mask)
    model = build(config, "dropconnect", 0)
    layers = [layer for layer in model.layers if isinstance(layer, DropConnectDense)]
    assert [layer.name for layer in layers] == ["fc1", "fc2"]
    assert {layer.mask for layer in layers} == {mask}
    assert {layer.get_config()["mask"] for layer in layers} == {mask}  # what a saved net says
    assert not any(isinstance(layer, DropConnectDense) for layer in build(config, "dropout", 0).layers)


def test_a_bad_mask_is_refused_by_name():
    with pytest.raises(UsageError, match="per_sample"):
        _config.apply(DropConnect.config, ["mask=per_sample"])


@pytest.mark.skipif(not COMMITTED.exists(), reason="no committed dropconnect.json in this checkout")
@pytest.mark.parametrize("mask", [None, "per_example"])
def test_the_report_states_the_mask_rule_of_its_file(tmp_path, mask):
    results = json.loads(COMMITTED.read_text(encoding="utf-8"))
    if mask:  # as a fresh run writes it: the mask in the config, reshuffled, seconds per epoch
        results["config"]["mask"] = mask
        results["epoch_order"] = _run.EPOCH_ORDER
        for record in results["runs"]:
            record["epoch_seconds"] = {"none": 5.0, "dropout": 6.0, "dropconnect": 321.0}[record["arm"]["arm"]]
    else:  # the committed file as it is: one mask per batch (its default; a file before the option has none)
        assert results["config"].get("mask", "per_batch") == "per_batch"
    (tmp_path / "dropconnect.json").write_text(json.dumps(results), encoding="utf-8")
    text = pathlib.Path(_run.render("dropconnect", tmp_path)).read_text(encoding="utf-8")
    if mask:
        assert '`mask="per_example"`: a new mask for every example' in text
        assert "draws a mask per example as they do" in text and "Caveat (training order)" not in text
        assert "| 321 |" in text and "| 5 |" in text  # seconds per epoch
    else:
        assert '`mask="per_batch"`: one mask per step' in text and "per example as they do" not in text
        assert ("Caveat (training order)" in text) == ("epoch_order" not in results)  # reshuffled reruns carry none
