"""FGSM / PGD tested the way attack libraries test theirs (cleverhans, foolbox, ART)."""

import keras
import numpy as np
import pytest

from keras_seminar import adversarial


def _linear(w, b, activation="softmax"):
    """A tiny linear classifier with known weights: x (N, d) -> softmax(x W + b)."""
    model = keras.Sequential([keras.Input((w.shape[0],)), keras.layers.Dense(w.shape[1], activation=activation)])
    model.layers[-1].set_weights([w.astype("float32"), b.astype("float32")])
    return model


@pytest.fixture
def tiny(rng):
    w, b = rng.normal(size=(6, 3)), rng.normal(size=3) * 0.1
    x = rng.uniform(0.2, 0.8, size=(5, 6)).astype("float32")
    y = np.array([0, 1, 2, 1, 0])
    return _linear(w, b), w, b, x, y


@pytest.fixture(scope="module")
def trained(mnist):
    """A small MLP trained for a few epochs on 3000 real MNIST digits (~97% / 90% test)."""
    keras.utils.set_random_seed(0)
    x = mnist.x_train[:3000].reshape(-1, 784).astype("float32") / 255.0
    xt = mnist.x_test[:300].reshape(-1, 784).astype("float32") / 255.0
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(10), keras.layers.Activation("softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, mnist.y_train[:3000], epochs=4, batch_size=64, verbose=0)
    return model, xt, mnist.y_test[:300]


def test_fgsm_matches_numpy_sign_gradient(tiny):
    model, w, b, x, y = tiny
    logits = x @ w + b
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    grad = (p - np.eye(3)[y]) @ w.T  # d CE / d x of a softmax-linear model
    expected = np.clip(x + 0.05 * np.sign(grad), 0, 1)
    np.testing.assert_allclose(adversarial.fgsm(model, x, y, eps=0.05), expected, atol=1e-6)
    # Targeted: the step goes down the target's cross-entropy.
    target = np.array([2, 2, 0, 0, 1])
    grad_t = (p - np.eye(3)[target]) @ w.T
    np.testing.assert_allclose(adversarial.fgsm(model, x, target, eps=0.05, targeted=True),
                               np.clip(x - 0.05 * np.sign(grad_t), 0, 1), atol=1e-6)


def test_from_logits_gives_the_same_attack(tiny):
    model, w, b, x, y = tiny
    logits_model = _linear(w, b, activation=None)
    np.testing.assert_allclose(adversarial.fgsm(logits_model, x, y, 0.1, from_logits=True),
                               adversarial.fgsm(model, x, y, 0.1), atol=1e-6)


@pytest.mark.parametrize("attack", ["fgsm", "pgd"])
def test_eps_zero_returns_the_input(tiny, attack):
    model, _, _, x, y = tiny
    fn = getattr(adversarial, attack)
    np.testing.assert_array_equal(fn(model, x, y, eps=0.0), x)


@pytest.mark.parametrize("attack", ["fgsm", "pgd"])
def test_stays_in_clip_range_and_eps_ball_and_leaves_input_alone(trained, attack):
    model, x, y = trained
    x = x[:64].copy()
    before = x.copy()
    fn = getattr(adversarial, attack)
    options = {"steps": 3} if attack == "pgd" else {}
    x_adv = fn(model, x, y[:64], eps=0.3, clip=(0.0, 0.9), batch_size=20, **options)
    np.testing.assert_array_equal(x, before)
    assert x_adv.shape == x.shape and x_adv.dtype == np.float32
    assert x_adv.min() >= 0.0 and x_adv.max() <= 0.9
    assert np.abs(x_adv - x).max() <= 0.3 + 1e-6
    assert np.abs(x_adv - x).max() > 0.1  # it did move


def test_trained_model_accuracy_drops(trained):
    model, x, y = trained
    fgsm = adversarial.robustness_curve(model, x, y, [0.0, 0.1], attack="fgsm")
    pgd = adversarial.robustness_curve(model, x, y, [0.1], attack="pgd", steps=5)
    assert fgsm["eps"] == [0.0, 0.1]
    assert fgsm["accuracy"][0] > 0.85
    assert fgsm["accuracy"][1] < fgsm["accuracy"][0] - 0.3
    assert pgd["accuracy"][0] <= fgsm["accuracy"][1]  # PGD is at least as strong as FGSM


def test_targeted_attack_raises_target_probability(trained):
    model, x, y = trained
    target = (y[:50] + 1) % 10
    x_adv = adversarial.pgd(model, x[:50], target, eps=0.1, steps=5, targeted=True)
    p_before = model.predict(x[:50], verbose=0)[np.arange(50), target]
    p_after = model.predict(x_adv, verbose=0)[np.arange(50), target]
    assert np.mean(p_after > p_before) > 0.9
    assert p_after.mean() > p_before.mean() + 0.1


def test_pgd_is_seeded(tiny):
    model, _, _, x, y = tiny
    a = adversarial.pgd(model, x, y, 0.1, steps=2, seed=3)
    np.testing.assert_array_equal(a, adversarial.pgd(model, x, y, 0.1, steps=2, seed=3))


def test_adversarial_training_feeds_mixed_batches(fashion_small):
    x, y, _, _ = fashion_small
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(x.shape[1:]), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    adv = adversarial.AdversarialTraining(x[:256], y[:256], eps=0.1, ratio=0.5, batch_size=64)
    history = model.fit(adv.dataset, epochs=2, callbacks=[adv], verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()
    xb, yb = adv.dataset[0]
    moved = np.abs(xb - adv.x[adv.dataset.order[:64]]).reshape(64, -1).max(axis=1)
    assert np.allclose(moved[adv.dataset.adversarial[adv.dataset.order[:64]]], 0.1, atol=1e-6) or \
        moved.max() <= 0.1 + 1e-6
    assert 0.2 < np.mean(moved > 0) < 0.8


@pytest.mark.parametrize("kwargs, match", [
    ({"eps": -0.1}, "eps=-0.1"),
    ({"eps": float("nan")}, "eps=nan"),
    ({"eps": 0.1, "steps": 0}, "steps=0"),
    ({"eps": 0.1, "step_size": 0.0}, "step_size=0.0"),
    ({"eps": 0.1, "clip": (1.0, 0.0)}, "clip=\\(1.0, 0.0\\)"),
    ({"eps": 0.1, "clip": 5}, "clip=5"),
    ({"eps": 0.1, "batch_size": 0}, "batch_size=0"),
])
def test_bad_arguments(tiny, kwargs, match):
    model, _, _, x, y = tiny
    with pytest.raises(ValueError, match=match):
        adversarial.pgd(model, x, y, **kwargs)


def test_bad_data_and_attack_names(tiny):
    model, _, _, x, y = tiny
    with pytest.raises(ValueError, match=r"x.shape=\(5, 6\), y.shape=\(4,\)"):
        adversarial.fgsm(model, x, y[:4], 0.1)
    with pytest.raises(ValueError, match="integer class labels"):
        adversarial.fgsm(model, x, y - 1, 0.1)
    with pytest.raises(ValueError, match="attack='cw'"):
        adversarial.robustness_curve(model, x, y, [0.1], attack="cw")
    with pytest.raises(ValueError, match="ratio=1.5"):
        adversarial.AdversarialTraining(x, y, eps=0.1, ratio=1.5)


@pytest.mark.parametrize("attack", [adversarial.fgsm, adversarial.pgd])
def test_labels_beyond_the_models_classes_are_refused(tiny, attack):
    model, _, _, x, y = tiny  # 3 classes
    for bad in (y + 3, np.array([0, 1, 2, 1, 3])):
        with pytest.raises(ValueError, match=r"labels y in \[0, 2\] for a model with 3 outputs"):
            attack(model, x, bad, 0.1)
    with pytest.raises(ValueError, match=r"non-negative integer class labels y.*min=-1"):
        attack(model, x, y - 1, 0.1)
    with pytest.raises(ValueError, match="seed='a'"):
        adversarial.pgd(model, x, y, 0.1, seed="a")
    with pytest.raises(ValueError, match="max\\(y\\)=3"):
        adversarial.robustness_curve(model, x, np.full(5, 3), [0.0])


@pytest.mark.parametrize("x, y, match", [
    (np.zeros((0, 6), "float32"), np.zeros((0,), "int64"), r"at least one example. Received: x.shape=\(0, 6\)"),
    (np.full((2, 6), np.nan, "float32"), np.zeros(2, "int64"), "12 NaN/inf values"),
    (np.array([[np.inf, 0, 0, 0, 0, 0]], "float32"), np.zeros(1, "int64"), "Received: 1 NaN/inf values"),
    (np.zeros((2, 6), "float32"), np.array([0.5, 1.0]), "integer class labels"),
    (np.zeros((2, 6), "float32"), np.array(["a", "b"]), "integer class labels y. Received: dtype=<U1"),
])
def test_bad_data_is_refused(x, y, match):
    from keras_seminar.adversarial import fgsm

    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(3, activation="softmax")])
    with pytest.raises(ValueError, match=match):
        fgsm(model, x, y, eps=0.1)
