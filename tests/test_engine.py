"""The training engine (`training.fit_model`): hooks, divergence, steps per call, progress bar;
and `prepare_arrays`, the one data preparation."""

import ast
import os

import keras
import numpy as np
import pytest

from keras_seminar.callbacks import TrainingCallback
from keras_seminar.errors import TrainingDiverged, UsageError
from keras_seminar.training import fit_model, prepare_arrays

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MULTI_STEP = pytest.mark.skipif(keras.backend.backend() == "torch",
                                reason="Keras on torch runs one step per call")


def _model(steps_per_execution=1):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", steps_per_execution=steps_per_execution)
    return model


def _data(n=44, nan_at=None):
    x = np.ones((n, 3), "float32")
    if nan_at is not None:
        x[nan_at] = np.nan
    return x, np.zeros(n, "int32")


class Kept(TrainingCallback):
    def rollback_note(self):
        return "; the weights of epoch 0 are kept"


def test_divergence_raises_with_the_hooks_notes_and_where():
    x, y = _data(nan_at=5 * 4)  # batch size 4: step 5 holds the NaN
    plain = keras.callbacks.Callback()  # a plain Keras callback: no hooks, no error
    with pytest.raises(TrainingDiverged, match=r"loss=nan at epoch 1, batch 5\. Nothing was "
                                               r"saved; the weights of epoch 0 are kept\. Lower it") as info:
        fit_model(_model(), x, y, batch_size=4, epochs=2, shuffle=False, callbacks=[Kept(), plain],
                  advice="Lower it.")
    epoch, batch, loss = info.value.diverged_at
    assert (epoch, batch) == (0, 5) and not np.isfinite(loss)


def test_the_hook_is_a_no_op_by_default():
    assert TrainingCallback().rollback_note() == ""


@MULTI_STEP
def test_the_last_short_call_of_an_epoch_counts_its_own_steps(capsys):
    """11 steps at 4 per call: Keras numbers the last call 8-11; the bar and the guard say 8-10."""
    x, y = _data(nan_at=9 * 4)
    with pytest.raises(TrainingDiverged, match="batch 8-10"):
        fit_model(_model(), x, y, batch_size=4, epochs=1, shuffle=False, steps_per_execution=4)
    model = _model()
    fit_model(model, *_data(), batch_size=4, epochs=1, steps_per_execution=4, verbose=1, seed=0)
    out = capsys.readouterr().out
    assert "11/11" in out and "12/11" not in out and "-1s" not in out
    assert model.steps_per_execution == 1  # the fit's own steps per call, the model's restored


def test_bad_arguments():
    with pytest.raises(UsageError, match="epochs=0"):
        fit_model(_model(), *_data(), batch_size=4, epochs=0)
    with pytest.raises(UsageError, match="steps_per_call=0"):
        fit_model(_model(), *_data(), batch_size=4, fused=True, steps_per_execution=0)


def test_prepare_arrays_keeps_the_first_n_of_each_split(mnist):
    arrays = prepare_arrays(mnist, train_limit=100, val_limit=20, test_limit=0)
    assert arrays.x_train.shape == (100, 28, 28, 1) and arrays.x_train.dtype == np.float32
    np.testing.assert_array_equal(arrays.x_train[..., 0] * 255, mnist.x_train[:100])
    np.testing.assert_array_equal(arrays.y_val, mnist.y_val[:20])
    assert len(arrays.x_test) == 0 and arrays.validation[0] is arrays.x_val
    assert len(prepare_arrays(mnist).y_train) == len(mnist.y_train)
    with pytest.raises(UsageError, match="train_limit=-1"):
        prepare_arrays(mnist, train_limit=-1)


def keras_fit_calls(folders=("keras_seminar", "tuning", "experiments"), root=ROOT):
    """`path:line` of every `<object>.fit(...)` call under `folders`: a Keras model's `fit` (or
    KerasTuner's), not an imported module's `fit` function; docstrings aside."""
    found = []
    for folder in folders:
        for dirpath, _, files in os.walk(os.path.join(root, folder)):
            for name in sorted(f for f in files if f.endswith(".py")):
                path = os.path.join(dirpath, name)
                with open(path) as f:
                    tree = ast.parse(f.read(), path)
                modules = {alias.asname or alias.name for node in ast.walk(tree)
                           if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
                found += [f"{os.path.relpath(path, root)}:{node.lineno}" for node in ast.walk(tree)
                          if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                          and node.func.attr == "fit" and not (  # a module's own `fit` function
                              isinstance(node.func.value, ast.Name) and node.func.value.id in modules)]
    return found


def test_keras_fit_is_called_only_inside_the_engine():
    """Every fit of the package, tuning and the experiments runs through `fit_model`."""
    calls = keras_fit_calls()
    assert calls and all(c.startswith(os.path.join("keras_seminar", "training", "engine.py") + ":")
                         for c in calls), calls
