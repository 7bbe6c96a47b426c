import os

import keras
import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from keras_seminar.callbacks import (
    GradientNormMonitor,
    InformationPlane,
    SparsityMonitor,
    TensorBoard,
    make_monitors,
)


def test_all_monitors_in_one_fit(tmp_path, rng):
    x = rng.random((64, 6, 6, 1)).astype("float32")
    y = rng.integers(0, 3, 64)
    model = keras.Sequential([
        keras.Input((6, 6, 1)),
        keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(5, activation="tanh", name="fc"),
        keras.layers.Dense(3, activation="softmax", name="out")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    callbacks = make_monitors("gradients, sparsity,infoplane,histograms,filters", str(tmp_path),
                              x[:32], y[:32], every_n_steps=2, gradient_batch=16)
    assert [type(c) for c in callbacks] == [GradientNormMonitor, SparsityMonitor, InformationPlane, TensorBoard]
    model.fit(x, y, batch_size=16, epochs=2, validation_split=0.25, callbacks=callbacks, verbose=0)
    for name in ("gradient_norms", "sparsity", "information_plane"):
        assert os.path.getsize(tmp_path / f"{name}.png") > 1000
        assert os.path.exists(tmp_path / f"{name}.npz")
    assert callbacks[2].layer_names == ["conv", "fc"]
    events = EventAccumulator(str(tmp_path / "train"), size_guidance={"images": 0, "histograms": 0})
    events.Reload()
    tags = events.Tags()
    assert "filters/conv" in tags["images"] and "sequential_fc_kernel/gradient" in tags["histograms"]
    assert {"gradient_norm/global", "sparsity/dead_units/fc", "information/I_TY/fc"} <= set(tags["scalars"])
    assert "epoch_loss" not in tags["scalars"]  # scalars stay with the main TensorBoard callback


def test_filters_alone_and_bad_arguments():
    x, y = np.zeros((4, 3)), np.zeros(4)
    (tb,) = make_monitors(["filters"], "runs/x", x, y)
    assert tb.write_images and tb.histogram_freq == 0 and tb.probe_data is None
    with pytest.raises(ValueError, match="Unknown monitors \\['weights'\\]"):
        make_monitors(["gradients", "weights"], "runs/x", x, y)
    with pytest.raises(ValueError, match="Unknown options \\['every_n_step'\\]"):
        make_monitors(["gradients"], "runs/x", x, y, every_n_step=5)
    with pytest.raises(ValueError, match="len\\(probe_y\\)=3"):
        make_monitors(["sparsity"], "runs/x", x, y[:3])
