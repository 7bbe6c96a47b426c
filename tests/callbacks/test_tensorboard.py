import warnings

import keras
import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from keras_seminar.callbacks import TensorBoard
from keras_seminar.callbacks.tensorboard import filter_grid
from keras_seminar.layers import MLPConv, RandomShift

SIZES = {"images": 0, "histograms": 0, "tensors": 0, "scalars": 0}


def _events(path):
    events = EventAccumulator(str(path), size_guidance=SIZES)
    events.Reload()
    return events


def test_all_kinds_of_summary_written_and_read_back(tmp_path, rng):
    x = rng.random((48, 6, 6, 1)).astype("float32")
    y = rng.integers(0, 3, 48)
    model = keras.Sequential([
        keras.Input((6, 6, 1)),
        keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
        keras.layers.Flatten(),
        keras.layers.Dense(3, activation="softmax", name="out")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    tb = TensorBoard(tmp_path, update_freq=1, histogram_freq=1, write_images=True,
                     probe_data=(x[:8], y[:8]), hparams={"lr": 1e-3, "model": "tiny", "seed": 0})
    model.fit(x, y, batch_size=16, epochs=2, validation_split=0.25, callbacks=[tb], verbose=0)

    train, validation = _events(tmp_path / "train"), _events(tmp_path / "validation")
    assert [e.step for e in train.Scalars("epoch_loss")] == [0, 1]
    assert len(train.Scalars("epoch_learning_rate")) == 2 and len(train.Scalars("batch_loss")) == 6
    assert len(validation.Scalars("epoch_accuracy")) == 2
    histograms = train.Tags()["histograms"]
    assert "sequential_conv_kernel/histogram" in histograms
    grad = train.Histograms("sequential_out_kernel/gradient")
    assert len(grad) == 2 and grad[0].histogram_value.num == 4 * 4 * 4 * 3
    image = train.Images("filters/conv")[-1]
    assert (image.width, image.height) == (2 * 3 + 3, 2 * 3 + 3)  # 2x2 tiles of 3x3, padding 1
    text = train.Tensors("model/summary/text_summary")[0].tensor_proto.string_val[0].decode()
    assert "conv" in text and "Conv2D" in text
    assert "run/hparams/text_summary" in train.Tags()["tensors"]
    root = _events(tmp_path)
    assert set(root.PluginTagToContent("hparams")) >= {"_hparams_/experiment", "_hparams_/session_start_info"}
    assert root.Scalars("hparams/val_accuracy")[0].value == pytest.approx(
        validation.Scalars("epoch_accuracy")[-1].value)


def test_log_images_public_method(tmp_path, rng):
    tb = TensorBoard(tmp_path)
    tb.log_images("adversarial/fgsm", rng.random((3, 5, 7)), step=2)
    tb.log_images("adversarial/raw", rng.normal(size=(2, 5, 7, 3)) * 10, step=0, normalize=True)
    tb.close()
    train = _events(tmp_path / "train")
    (image,) = train.Images("adversarial/fgsm")  # the batch as one mosaic, side by side
    assert (image.step, image.width, image.height) == (2, 3 * 7, 5)
    assert len(train.Images("adversarial/raw")) == 1
    with pytest.raises(ValueError, match="shape=\\(5, 7\\)"):
        tb.log_images("bad", rng.random((5, 7)), step=0)


def test_filter_grid_shapes_and_zero_kernels():
    grid = filter_grid(np.random.default_rng(0).normal(size=(16, 5)), input_shape=(4, 4))
    assert grid.shape == (2 * 5 + 1, 3 * 5 + 1) and grid.min() >= 0 and grid.max() <= 1
    zero = filter_grid(np.zeros((3, 3, 1, 4)))
    assert np.all(np.isfinite(zero)) and zero.shape == (2 * 4 + 1, 2 * 4 + 1)
    assert filter_grid(np.zeros((7, 5)), input_shape=(4, 4)) is None  # not an image input
    assert filter_grid(np.zeros((16, 5)), input_shape=(16,)) is None  # flat input: no image shape


def test_bad_arguments():
    with pytest.raises(ValueError, match="histogram_freq=-1"):
        TensorBoard("runs", histogram_freq=-1)
    with pytest.raises(ValueError, match="update_freq=0"):
        TensorBoard("runs", update_freq=0)
    with pytest.raises(ValueError, match="probe_data="):
        TensorBoard("runs", probe_data=np.zeros(3))
    with pytest.raises(ValueError, match="hparams=\\["):
        TensorBoard("runs", hparams=["lr"])
    with pytest.raises(ValueError, match="log_dir=''"):
        TensorBoard("")


def _fit_with_images(model, tmp_path, x, epochs=2):
    y = np.zeros(len(x), "int32")
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    tb = TensorBoard(tmp_path, write_images=True, write_text=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x, y, batch_size=len(x), epochs=epochs, callbacks=[tb], verbose=0)
    return [str(w.message) for w in caught if "filter images" in str(w.message)]


def test_filters_of_an_mlpconv_first_layer(tmp_path, rng):
    inputs = keras.Input((6, 6, 1))
    x = RandomShift(1, name="shift")(inputs)  # no kernel: skipped
    x = MLPConv([4, 2], 3, name="nin")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax", name="out")(x))
    assert _fit_with_images(model, tmp_path, rng.random((8, 6, 6, 1)).astype("float32")) == []
    (image, _) = _events(tmp_path / "train").Images("filters/nin/nin_conv0")  # one per epoch
    assert (image.width, image.height) == (2 * 3 + 3, 2 * 3 + 3)  # 4 filters of 3x3 in 2x2 tiles


def test_warns_once_when_no_filter_can_be_drawn(tmp_path, rng):
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, name="fc"),
                              keras.layers.Dense(2, activation="softmax", name="out")])
    messages = _fit_with_images(model, tmp_path, rng.random((8, 6)).astype("float32"), epochs=3)
    assert len(messages) == 1  # once per fit, not every epoch
    assert "('fc', (6, 4))" in messages[0] and "write_images=False" in messages[0]
