"""Checks every keras_seminar layer goes through (build, config, saving, training, dtypes)."""

import subprocess
import sys

import keras
import numpy as np


def config_roundtrip(layer):
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    return clone


def save_load_roundtrip(model, x, tmp_path, name="model.keras"):
    path = tmp_path / name
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded(x)),
        keras.ops.convert_to_numpy(model(x)),
        rtol=1e-5,
        atol=1e-6,
    )
    return path, loaded


def load_in_fresh_process(path, x_path):
    """Loads `path` in a new interpreter that only imports keras_seminar modules."""
    code = (
        "import sys, keras, numpy as np\n"
        "import keras_seminar.layers, keras_seminar.regularizers, keras_seminar.constraints\n"
        "m = keras.saving.load_model(sys.argv[1], safe_mode=True)\n"
        "np.save(sys.argv[2] + '.out.npy', keras.ops.convert_to_numpy(m(np.load(sys.argv[2]))))\n"
    )
    subprocess.run([sys.executable, "-c", code, str(path), str(x_path)], check=True, timeout=120)
    return np.load(str(x_path) + ".out.npy")


def train_one_epoch(model, x, y, loss="mse"):
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss=loss)
    before = [np.array(w) for w in model.trainable_weights]
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(
        not np.allclose(b, np.array(w))
        for b, w in zip(before, model.trainable_weights, strict=True)
    )


def mixed_precision_output(make_model, x, policy, expected_dtype=None):
    keras.mixed_precision.set_global_policy(policy)
    y = make_model()(x)
    expected = expected_dtype or policy.split("_")[1]
    assert keras.backend.standardize_dtype(y.dtype) == expected
    assert np.all(np.isfinite(keras.ops.convert_to_numpy(keras.ops.cast(y, "float32"))))
    return y
