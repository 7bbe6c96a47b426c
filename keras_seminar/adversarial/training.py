"""Adversarial training: each epoch, batches mix clean examples with attacks on the current model.

Paper: Goodfellow, Shlens, Szegedy, "Explaining and harnessing adversarial examples", ICLR 2015.
"""

import math

import keras
import numpy as np

from keras_seminar.adversarial.attacks import (
    ATTACKS,
    _check_data,
    _check_int,
    _check_number,
    fgsm,
    pgd,
)

__all__ = ["AdversarialTraining"]


class AdversarialTraining(keras.callbacks.Callback):
    """Adversarial training (Goodfellow et al. 2015) as a callback plus the data it feeds.

    `fit` on its `dataset` with the callback itself: at the start of each epoch the callback
    crafts adversarial versions of the training set against the *current* model, and each
    batch of `dataset` mixes clean examples with a fraction `ratio` of adversarial ones.

    Why per epoch and not per batch: the exact per-batch version needs the input gradient
    inside `train_step`, which is written differently on every backend; and a data generator
    cannot call the model mid-epoch on JAX, whose trainer keeps the weights off the model
    (purged) until the epoch ends. At an epoch boundary every backend has synced the weights,
    so this runs everywhere through `keras_seminar.backend`. The price is that examples are
    up to one epoch stale; use shorter epochs (`steps_per_epoch`) for fresher ones.

    Args:
        x, y: the training data (not modified).
        eps: attack size.
        attack: "fgsm" or "pgd".
        ratio: fraction of each batch replaced by its adversarial version, in [0, 1].
        batch_size: examples per training batch (and per attack batch).
        seed: seeds the shuffling and the PGD random start.
        **attack_options: passed to the attack (e.g. `steps`, `clip`, `from_logits`).

    Example:
        >>> adv = AdversarialTraining(x_train, y_train, eps=0.1)
        >>> model.fit(adv.dataset, epochs=5, callbacks=[adv])
    """

    def __init__(self, x, y, eps, attack="fgsm", ratio=0.5, batch_size=128, seed=0, **attack_options):
        super().__init__()
        if attack not in ATTACKS:
            raise ValueError(f"Expected attack in {ATTACKS}. Received: attack={attack!r}")
        ratio = _check_number("ratio", ratio)
        if ratio > 1:
            raise ValueError(f"Expected ratio in [0, 1]. Received: ratio={ratio!r}")
        self.x, self.y = _check_data(x, y)
        self.eps = _check_number("eps", eps)
        self.attack, self.ratio, self.seed = attack, ratio, seed
        self.batch_size = _check_int("batch_size", batch_size)
        self.attack_options = attack_options
        self.dataset = _MixedBatches(self)
        self._epoch = 0

    def on_train_begin(self, logs=None):
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        # `self.model` syncs the JAX state onto the model first.
        fn = fgsm if self.attack == "fgsm" else pgd
        options = dict(self.attack_options)
        if self.attack == "pgd":
            options.setdefault("seed", self.seed + self._epoch)
        self.dataset.x_adv = fn(self.model, self.x, self.y, self.eps, batch_size=self.batch_size, **options)
        self.dataset.reshuffle(self.seed + self._epoch)
        self._epoch += 1


class _MixedBatches(keras.utils.PyDataset):
    """Batches of `owner.x` where a fraction `owner.ratio` comes from `x_adv` (clean until set)."""

    def __init__(self, owner):
        super().__init__()
        self.owner, self.x_adv = owner, owner.x
        self.reshuffle(owner.seed)

    def reshuffle(self, seed):
        rng = np.random.default_rng(seed)
        self.order = rng.permutation(len(self.owner.x))
        self.adversarial = rng.random(len(self.owner.x)) < self.owner.ratio

    def __len__(self):
        return math.ceil(len(self.owner.x) / self.owner.batch_size)

    def __getitem__(self, index):
        b = self.owner.batch_size
        idx = self.order[index * b:(index + 1) * b]
        adv = self.adversarial[idx].reshape((-1,) + (1,) * (self.owner.x.ndim - 1))
        return np.where(adv, self.x_adv[idx], self.owner.x[idx]), self.owner.y[idx]
