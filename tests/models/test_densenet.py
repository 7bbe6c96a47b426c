"""DenseNet-BC: the paper's size, the channel arithmetic of blocks and transitions, a train step,
a `.keras` round trip under safe_mode, and its option checks."""

import keras
import numpy as np
import pytest

from keras_seminar.models import build_model, get_spec
from keras_seminar.models.densenet import apply_dense_block, apply_transition, build_densenet


def test_registered_with_its_recipe():
    spec = get_spec("densenet_bc40")
    assert spec.recipe.optimizer == "sgd" and spec.recipe.weight_decay == 1e-4
    assert {"growth_rate", "compression", "augment"} <= spec.options


@pytest.mark.parametrize("name, params", [("densenet_bc40", 180_778), ("densenet_bc100", 792_718)])
def test_parameter_counts(name, params):
    # Huang et al. 2017, Table 2: DenseNet-BC (L=100, k=12) has 0.8M parameters on CIFAR.
    count = build_model(name).count_params()
    assert count == params
    if name == "densenet_bc100":
        assert abs(count - 0.8e6) / 0.8e6 < 0.02


def test_block_and_transition_channels():
    x = keras.Input((8, 8, 24))
    y = apply_dense_block(x, 3, growth_rate=12, name="b")
    assert y.shape[-1] == 24 + 3 * 12
    z = apply_transition(y, compression=0.5, name="t")
    assert tuple(z.shape[1:]) == (4, 4, 30)


def test_trains_a_step_and_reloads(tmp_path, rng):
    keras.utils.set_random_seed(0)
    model = build_densenet(stackwise_num_layers=(2, 2), growth_rate=4, augment={"shift": 1})
    x, y = rng.random((8, 28, 28, 1)).astype("float32"), np.arange(8) % 10
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy")
    # Training-mode losses: evaluate() would use BatchNorm's moving statistics, which 5 steps
    # barely move (momentum 0.99), so an eval loss need not fall (it did not once in CI).
    losses = [float(np.asarray(model.train_on_batch(x, y)).ravel()[0]) for _ in range(5)]
    assert losses[-1] < losses[0]
    path = str(tmp_path / "d.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5)


@pytest.mark.parametrize("options, match", [
    ({"growth_rate": 0}, "growth_rate"), ({"compression": 1.5}, "compression"),
    ({"bottleneck": -1}, "bottleneck"), ({"stackwise_num_layers": []}, "stackwise_num_layers"),
    ({"dropout": 1.0}, "dropout"), ({"activation": "tanh"}, "does not take option 'activation'")])
def test_bad_options_are_named(options, match):
    with pytest.raises(ValueError, match=match):
        build_model("densenet_bc40", **options)
