"""FGSM / PGD tested the way attack libraries test theirs (cleverhans, foolbox, ART)."""

import re

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


class _Subclassed(keras.Model):
    """Declares no input shape: the checks call it once on one example."""

    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(3, activation="softmax")

    def call(self, x):
        return self.dense(x)


def _image_model():
    inputs = keras.Input((8, 8, 1))
    return keras.Model(inputs, keras.layers.Dense(4, activation="softmax")(
        keras.layers.Flatten()(inputs)), name="images")


@pytest.mark.parametrize("attack", [adversarial.fgsm, adversarial.pgd])
def test_inputs_of_the_wrong_shape_are_refused_whatever_ran_before(rng, attack):
    """Rank, size and dtype are checked against the model's input before anything is traced, so
    the message is the same before and after a valid call compiled the attack."""
    model = _image_model()
    x, y = rng.uniform(size=(3, 8, 8, 1)).astype("float32"), np.array([0, 1, 3])
    expected = r"Expected inputs x of shape \(N, 8, 8, 1\) \(float32\) for model 'images'. "
    for valid_first in (False, True):
        if valid_first:
            assert attack(model, x, y, 0.1).shape == x.shape
        for bad in (x.reshape(3, 64), x[:, :7], x[..., None], x[:, :, :, 0]):
            with pytest.raises(ValueError, match=expected + rf"Received: x.shape={re.escape(str(bad.shape))}"):
                attack(model, bad, y, 0.1)
    with pytest.raises(ValueError, match=r"array of real numbers .* Received: x with dtype=<U1"):
        attack(model, np.full((3, 8, 8, 1), "a"), y, 0.1)
    with pytest.raises(ValueError, match="Received: x with a ragged list"):
        attack(model, [[0.0, 1.0], [0.0]], y[:2], 0.1)


@pytest.mark.parametrize("attack", [adversarial.fgsm, adversarial.pgd])
def test_labels_are_checked_against_the_models_outputs(rng, attack):
    model = _image_model()  # 4 classes
    x = rng.uniform(size=(3, 8, 8, 1)).astype("float32")
    one_hot = np.eye(4)[[0, 1, 3]]
    np.testing.assert_array_equal(attack(model, x, one_hot, 0.1), attack(model, x, [0, 1, 3], 0.1))
    with pytest.raises(ValueError, match=r"one-hot labels y of shape \(N, 4\) .* Received: y.shape=\(3, 5\)"):
        attack(model, x, np.eye(5)[[0, 1, 3]], 0.1)
    with pytest.raises(ValueError, match=r"rows that are not one-hot"):
        attack(model, x, np.full((3, 4), 0.25), 0.1)
    with pytest.raises(ValueError, match=r"labels y of shape \(N,\). Received: .*y.shape=\(3, 2, 2\)"):
        attack(model, x, np.zeros((3, 2, 2), "int64"), 0.1)
    with pytest.raises(ValueError, match=r"labels y in \[0, 3\] for a model with 4 outputs. Received: max\(y\)=4"):
        attack(model, x, [0, 1, 4], 0.1)


def test_models_that_are_not_single_input_classifiers_are_refused(rng):
    x, y = rng.uniform(size=(2, 6)).astype("float32"), np.array([0, 1])
    a, b = keras.Input((6,)), keras.Input((6,))
    two = keras.Model([a, b], keras.layers.Dense(3)(keras.layers.Add()([a, b])), name="two")
    with pytest.raises(ValueError, match="model with one input to attack. Received: model 'two' with 2 inputs"):
        adversarial.fgsm(two, x, y, 0.1)
    seq = keras.Sequential([keras.Input((6,)), keras.layers.Reshape((2, 3))], name="seq")
    with pytest.raises(ValueError, match=r"output of shape \(N, classes\). Received: model 'seq' with output shape \(None, 2, 3\)"):
        adversarial.fgsm(seq, x, y, 0.1)
    ints = keras.Sequential([keras.Input((6,), dtype="int32"), keras.layers.Dense(3)], name="ints")
    with pytest.raises(ValueError, match="floating-point input .* Received: model 'ints' with input dtype int32"):
        adversarial.fgsm(ints, x, y, 0.1)


def test_a_model_without_declared_inputs_is_probed_once(rng):
    model = _Subclassed()
    x, y = rng.uniform(size=(2, 6)).astype("float32"), np.array([0, 2])
    assert adversarial.pgd(model, x, y, 0.1, steps=2).shape == (2, 6)  # builds on (N, 6)
    with pytest.raises(ValueError, match=r"declares no input shape and cannot be called on x of shape \(2, 5\)"):
        adversarial.pgd(model, x[:, :5], y, 0.1, steps=2)
