"""`adversarial.adversarial_fit`: per-batch adversarial training (FGSM, PGD with an eps ramp)."""

import keras
import numpy as np
import pytest

from keras_seminar import adversarial
from keras_seminar.adversarial import training


def _mlp(seed=0, hidden=32, lr=3e-3):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(hidden, activation="relu"),
                              keras.layers.Dense(10), keras.layers.Activation("softmax")])
    model.compile(keras.optimizers.Adam(lr), "sparse_categorical_crossentropy")
    return model


@pytest.fixture(scope="module")
def digits(mnist):
    """512 training and 100 validation images of the real MNIST, flat, in [0, 1]."""
    x = mnist.x_train[:612].reshape(-1, 784).astype("float32") / 255.0
    return x[:512], mnist.y_train[:512], x[512:], mnist.y_train[512:612]


def test_fgsm_training_trains_on_each_batch_and_its_fgsm_version(digits):
    x, y, xv, yv = digits
    model, seen = _mlp(), []
    real = model.train_on_batch

    def train_on_batch(xb, yb):  # the FGSM half is crafted against the weights of this step
        n = len(xb) // 2
        np.testing.assert_array_equal(yb[n:], yb[:n])
        np.testing.assert_allclose(xb[n:], adversarial.fgsm(model, xb[:n], yb[:n], 0.2, batch_size=n), atol=1e-6)
        assert np.abs(xb[n:] - xb[:n]).max() == pytest.approx(0.2, abs=1e-6)
        seen.append(n)
        return real(xb, yb)

    model.train_on_batch = train_on_batch
    history = adversarial.adversarial_fit(model, x[:128], y[:128], 0.2, validation_data=(xv, yv),
                                          epochs=2, batch_size=64)
    assert seen == [64] * 4 and len(history["val_loss"]) == 2 and "adv_val_loss" not in history


def test_adversarially_trained_net_resists_fgsm_better_than_a_plainly_trained_one(digits):
    x, y, xv, yv = digits
    accuracy = {}
    for eps in (0.0, 0.1):  # eps 0: the same loop on clean batches, the control
        model = _mlp()
        adversarial.adversarial_fit(model, x, y, eps, validation_data=(xv, yv), epochs=6, patience=6,
                                    batch_size=64)
        x_adv = adversarial.fgsm(model, x, y, 0.1)
        accuracy[eps] = np.mean(adversarial.predict_labels(model, x_adv) == y)
    assert accuracy[0.1] > accuracy[0.0] + 0.15, accuracy  # TF: 53% vs 24%


def test_pgd_training_ramps_eps_and_keeps_only_full_eps_epochs(digits, monkeypatch):
    x, y, xv, yv = digits
    real, sizes = training.pgd, []

    def pgd(model, x, y, eps, **kwargs):
        sizes.append((len(x), eps))
        return real(model, x, y, eps, **kwargs)

    monkeypatch.setattr(training, "pgd", pgd)
    history = adversarial.adversarial_fit(_mlp(), x[:256], y[:256], 0.3, "pgd", validation_data=(xv, yv),
                                          epochs=4, patience=4, batch_size=64, pgd_steps=2, ramp_epochs=2)
    train_eps = [eps for n, eps in sizes if n == 64]
    assert train_eps[0] == 0.0 and max(train_eps) == pytest.approx(0.3)
    assert train_eps == sorted(train_eps) and len(train_eps) == 16  # grows, then stays at the full eps
    # Epochs that ended below the full eps are neither scored nor kept.
    assert history["adv_val_loss"][0] is None and None not in history["adv_val_loss"][1:]
    assert history["best_epoch"] >= 2 and len(history["val_loss"]) == 4
    assert [eps for n, eps in sizes if n == len(yv)] == [0.3] * 3


def test_the_best_epoch_weights_are_kept(digits):
    x, y, xv, yv = digits
    model = _mlp(lr=0.5)  # a rate this high makes the validation loss jump about
    history = adversarial.adversarial_fit(model, x[:128], y[:128], 0.1, validation_data=(xv, yv),
                                          epochs=4, patience=4, batch_size=64)
    kept = model.evaluate(xv, yv, batch_size=512, verbose=0, return_dict=True)["loss"]
    assert history["best_epoch"] == 1 + int(np.argmin(history["val_loss"]))
    assert kept == pytest.approx(min(history["val_loss"]), rel=1e-5)


@pytest.mark.parametrize("kwargs, match", [
    ({"attack": "cw"}, "attack='cw'"),
    ({"eps": -0.1}, "eps=-0.1"),
    ({"epochs": 0}, "epochs=0"),
    ({"patience": -1}, "patience=-1"),
    ({"batch_size": 0}, "batch_size=0"),
    ({"pgd_steps": 0}, "pgd_steps=0"),
    ({"seed": -1}, "seed=-1"),
    ({"ramp_epochs": 3, "epochs": 2}, "ramp_epochs=3"),
    ({"validation_data": None}, "validation_data of type NoneType"),
    ({"y": np.full(8, 10)}, "max\\(y\\)=10"),
])
def test_bad_arguments(kwargs, match):
    rng = np.random.default_rng(0)
    x, y = rng.uniform(size=(8, 784)).astype("float32"), rng.integers(0, 10, 8)
    args = dict(x=x, y=y, eps=0.1, validation_data=(x, y)) | kwargs
    with pytest.raises(ValueError, match=match):
        adversarial.adversarial_fit(_mlp(hidden=4), **args)


def test_an_uncompiled_model_is_refused():
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="softmax")])
    x = np.zeros((4, 784), "float32")
    with pytest.raises(ValueError, match="compiled"):
        adversarial.adversarial_fit(model, x, np.zeros(4, int), 0.1, validation_data=(x, np.zeros(4, int)))
