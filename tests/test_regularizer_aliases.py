"""`keras_seminar.regularizers.get` and the string aliases ("l12", "l1/2", "group_lasso", ...):
what each name means, that every Keras layer takes them once `keras_seminar` is imported, and
that a `.keras` file stores the objects, not the names, and reloads in a fresh process."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_seminar import regularizers as R
from keras_seminar.constraints import NonNegMaxNorm
from keras_seminar.layers import DropConnectDense, Maxout, MLPConv


@pytest.mark.parametrize(
    "identifier, cls",
    [
        ("l12", R.L12),
        ("l1/2", R.L12),
        ("L12", R.L12),
        ("lq", R.Lq),
        ("group_lasso", R.GroupLasso),
        ("activity_sparsity", R.ActivitySparsity),
        ("l1", keras.regularizers.L1),
        ("l2", keras.regularizers.L2),
        ({"class_name": "GroupLasso", "config": {"factor": 0.5}}, R.GroupLasso),
        ({"class_name": "L2", "config": {"l2": 0.5}}, keras.regularizers.L2),
        (["l12", "l2"], R.Combined),
        ({"class_name": "Combined", "config": {"regularizers": ["l12", "l2"]}}, R.Combined),
    ],
)
def test_get(identifier, cls):
    assert type(R.get(identifier)) is cls


def test_get_passthrough_and_errors():
    reg = R.L12(0.5)
    assert R.get(reg) is reg and R.get(None) is None
    with pytest.raises(ValueError, match="l3"):
        R.get("l3")
    with pytest.raises(ValueError, match="Combined"):
        R.get("Combined")  # needs its list of regularizers


# Every regularizer alias README promises, with what a bare name means (strength 0.01).
ALIASES = {
    "l12": R.L12(0.01),
    "l1/2": R.L12(0.01),
    "l1_2": R.L12(0.01),
    "l_half": R.L12(0.01),
    "L12": R.L12(0.01),
    "lq": R.Lq(q=0.5, factor=0.01),
    "Lq": R.Lq(q=0.5, factor=0.01),
    "group_lasso": R.GroupLasso(0.01),
    "grouplasso": R.GroupLasso(0.01),
    "GroupLasso": R.GroupLasso(0.01),
    "activity_sparsity": R.ActivitySparsity(l1=0.01),
    "ActivitySparsity": R.ActivitySparsity(l1=0.01),
}


@pytest.mark.parametrize("alias", list(ALIASES))
def test_alias_works_on_any_keras_layer_and_the_packages_own(alias, rng):
    expected = ALIASES[alias]
    layers = [
        keras.layers.Dense(3, kernel_regularizer=alias, activity_regularizer=alias),
        keras.layers.Conv2D(3, 2, bias_regularizer=alias),
        Maxout(3, 2, kernel_regularizer=alias),
        MLPConv(3, 2, kernel_regularizer=alias),
        DropConnectDense(3, kernel_regularizer=alias),
    ]
    for layer in layers:
        reg = layer.kernel_regularizer or layer.bias_regularizer
        assert type(reg) is type(expected) and reg.get_config() == expected.get_config()
    assert keras.regularizers.get(alias).get_config() == expected.get_config()
    assert R.get(alias).get_config() == expected.get_config()
    # The penalty is on: a bare name regularizes (with ones, every penalty here is > 0).
    dense = keras.layers.Dense(3, kernel_initializer="ones", kernel_regularizer=alias)
    dense(np.ones((2, 4), "float32"))
    assert float(keras.ops.convert_to_numpy(dense.losses[0])) > 0


def test_aliases_are_saved_as_their_objects_not_their_names():
    config = keras.layers.Dense(3, kernel_regularizer="l1/2").get_config()["kernel_regularizer"]
    assert config["registered_name"] == "keras_seminar>L12"
    assert config["config"] == {"factor": 0.01, "a": 0.01}


_LOAD_IN_A_FRESH_PROCESS = """
import json, sys
import numpy as np
import keras
import keras_seminar  # registers the package's objects: no custom_objects needed
model = keras.saving.load_model(sys.argv[1], safe_mode=True)
found = {}
for layer in model.layers:
    for attr in ("kernel_regularizer", "activity_regularizer", "kernel_constraint"):
        obj = getattr(layer, attr, None)
        if obj is not None:
            found[f"{layer.name}.{attr}"] = [type(obj).__name__, obj.get_config()]
x = np.load(sys.argv[2])
print(json.dumps({"found": found, "y": np.asarray(model.predict(x, verbose=0)).tolist()}))
"""


def test_every_alias_round_trips_through_a_keras_file_in_a_fresh_process(tmp_path, rng):
    inputs = keras.Input((6, 6, 1))
    x = MLPConv(4, 3, kernel_regularizer="l12", kernel_constraint="nonneg", name="mlp")(inputs)
    x = keras.layers.Flatten(name="flat")(x)
    x = Maxout(8, 2, kernel_regularizer="l1/2", kernel_constraint="nonneg_max_norm", name="mo")(x)
    x = DropConnectDense(8, kernel_regularizer="lq", name="dc")(x)
    x = keras.layers.Dense(8, kernel_regularizer="group_lasso",
                           activity_regularizer="activity_sparsity", name="d1")(x)
    outputs = keras.layers.Dense(3, kernel_constraint="nonneg", name="out")(x)
    model = keras.Model(inputs, outputs)
    model.compile("sgd", "mse")
    data = rng.normal(size=(4, 6, 6, 1)).astype("float32")
    model.fit(data, np.zeros((4, 3), "float32"), epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    np.save(tmp_path / "x.npy", data)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run(
        [sys.executable, "-c", _LOAD_IN_A_FRESH_PROCESS, str(tmp_path / "m.keras"),
         str(tmp_path / "x.npy")],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["found"] == {
        "mlp.kernel_regularizer": ["L12", {"factor": 0.01, "a": 0.01}],
        "mlp.kernel_constraint": ["NonNeg", {}],
        "mo.kernel_regularizer": ["L12", {"factor": 0.01, "a": 0.01}],
        "mo.kernel_constraint": ["NonNegMaxNorm", NonNegMaxNorm().get_config()],
        "dc.kernel_regularizer": ["Lq", {"q": 0.5, "factor": 0.01, "a": 0.01}],
        "d1.kernel_regularizer": ["GroupLasso", R.GroupLasso().get_config()],
        "d1.activity_regularizer": ["ActivitySparsity", R.ActivitySparsity().get_config()],
        "out.kernel_constraint": ["NonNeg", {}],
    }
    np.testing.assert_allclose(result["y"], model.predict(data, verbose=0), rtol=1e-5, atol=1e-6)
