import os

import keras
import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from keras_seminar import layers
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
    # By default only the layers at most as wide as the probe (32): conv's 64 units would saturate.
    assert callbacks[2].layer_names == ["fc"] and callbacks[2].bins == 3
    events = EventAccumulator(str(tmp_path / "train"), size_guidance={"images": 0, "histograms": 0})
    events.Reload()
    tags = events.Tags()
    assert "filters/conv" in tags["images"] and "sequential_fc_kernel/gradient" in tags["histograms"]
    assert {"gradient_norm/global", "sparsity/dead_units/fc", "information/I_TY/fc"} <= set(tags["scalars"])
    assert "information/I_TY/conv" not in tags["scalars"]
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


def _every_package_layer():
    """A small functional model with every layer of keras_seminar.layers."""
    inputs = keras.Input((8, 8, 1))
    x = layers.RandomShift(1, name="shift")(inputs)
    x = layers.MLPConv([4, 4], 3, name="nin")(x)
    x = keras.layers.Conv2D(8, 3, padding="same", name="conv")(x)
    x = layers.MaxoutChannels(2, name="maxout_channels")(x)
    x = layers.apply_basic_block(x, 4, name="basic")
    x = layers.apply_wide_block(x, 4, name="wide")
    x = layers.StochasticRounding(name="rounding")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = layers.Maxout(6, 2, name="maxout")(x)
    x = layers.DropConnectDense(5, activation="relu", name="drop_connect")(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="out")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_monitors_see_every_package_layer(tmp_path, rng):
    x = rng.random((32, 8, 8, 1)).astype("float32")
    y = rng.integers(0, 3, 32)
    model = _every_package_layer()
    gradients, sparsity, plane, tb = make_monitors("gradients,sparsity,infoplane,filters", str(tmp_path),
                                                   x[:16], y[:16], bins=4, infoplane_max_width=None)
    model.fit(x, y, batch_size=16, epochs=1, callbacks=[gradients, sparsity, plane, tb], verbose=0)
    # Layers are chosen by what they compute. RandomShift is the identity at inference and
    # Flatten only reshapes: not measured; a Conv2D whose output goes only into MaxoutChannels
    # (or BN, or an activation) is measured after it.
    computing = {"nin", "maxout_channels", "basic_out", "wide_add", "rounding",
                 "maxout", "drop_connect"}
    assert computing <= set(plane.layer_names) == set(sparsity.history["activations"])
    assert not {"shift", "flatten", "conv", "basic_1_conv", "out"} & set(plane.layer_names)
    kernels = {"nin/nin_conv0", "nin/nin_conv1", "conv", "basic_1_conv", "basic_2_conv", "wide_1_conv", "maxout", "drop_connect", "out"}
    assert kernels <= set(sparsity.history["weights"])
    assert {"nin/nin_conv0", "maxout", "drop_connect"} <= set(gradients.history["layer_norms"])
    events = EventAccumulator(str(tmp_path / "train"), size_guidance={"images": 0, "scalars": 0})
    events.Reload()
    tags = events.Tags()
    assert tags["images"] == ["filters/nin/nin_conv0"]
    assert {f"sparsity/weights/{k}" for k in kernels} <= set(tags["scalars"])
    assert {f"information/I_XT/{n}" for n in computing} <= set(tags["scalars"])
    assert "gradient_norm/nin/nin_conv1" in tags["scalars"]
