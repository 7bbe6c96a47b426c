"""Adversarial training: examples crafted against the current model, per epoch or per batch.

`AdversarialTraining` (a callback feeding `fit`) crafts once per epoch; `adversarial_fit` (its
own loop over `train_on_batch`) crafts every batch, as the papers do.

Papers: Goodfellow, Shlens, Szegedy, "Explaining and harnessing adversarial examples", ICLR 2015;
Madry et al., "Towards deep learning models resistant to adversarial attacks", ICLR 2018; Rice,
Wong, Kolter, "Overfitting in adversarially robust deep learning", ICML 2020.
"""

import math

import keras
import numpy as np

from keras_seminar.adversarial.attacks import (
    ATTACKS,
    _check_data,
    _check_int,
    _check_model_fit,
    _check_number,
    fgsm,
    pgd,
)

__all__ = ["AdversarialTraining", "adversarial_fit"]


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


def adversarial_fit(model, x, y, eps, attack="fgsm", *, validation_data, epochs=40, patience=5,
                    batch_size=128, pgd_steps=7, ramp_epochs=0, seed=0):
    """Adversarial training with examples crafted per batch against the current weights.

    "fgsm" (Goodfellow et al. 2015) trains on each batch and its FGSM version, equally weighted
    (their alpha = 0.5); "pgd" (Madry et al. 2018) on the PGD version alone. With `ramp_epochs`
    the eps grows linearly from 0 over those first epochs (a small MLP trained by PGD at the full
    eps from the first step can collapse to chance), and only epochs that ended at the full eps
    are kept candidates. Early stopping and the kept weights follow a validation loss: the clean
    one for "fgsm", the loss on PGD versions of the validation set for "pgd" (robust early
    stopping, Rice et al. 2020). The best epoch's weights are restored at the end.

    Keras's `fit` cannot craft per batch on every backend (the input gradient would have to live
    inside `train_step`, and JAX keeps the weights off the model during `fit`), so this loop
    calls `train_on_batch`, which syncs the weights each step on every backend.

    Args:
        model: a classifier compiled with a loss on integer labels (e.g.
            `"sparse_categorical_crossentropy"`), returning probabilities; trained in place.
        x, y: training inputs (N, ...) and integer labels (N,) (or one-hot); not modified.
        eps: L-infinity attack size during training, >= 0.
        attack: "fgsm" or "pgd".
        validation_data: `(x_val, y_val)`, scored after every epoch.
        epochs: at most this many epochs, >= 1.
        patience: stop after this many epochs without a better selection loss, >= 0.
        batch_size: examples per training step (and per attack).
        pgd_steps: PGD steps per crafted example (training and validation), >= 1.
        ramp_epochs: epochs over which eps grows from 0, in [0, epochs].
        seed: draws each epoch's order and the PGD random starts, >= 0.

    Returns:
        `{"val_loss": [...], "best_epoch": k}` (per-epoch clean validation loss, the kept epoch
        counted from 1), plus `"adv_val_loss"` (None for epochs during the ramp) for "pgd".

    Example:
        >>> model.compile("adam", "sparse_categorical_crossentropy")
        >>> adversarial_fit(model, x_train, y_train, 0.3, "pgd", validation_data=(x_val, y_val))
    """
    if attack not in ATTACKS:
        raise ValueError(f"Expected attack in {ATTACKS}. Received: attack={attack!r}")
    eps = _check_number("eps", eps)
    epochs, batch_size = _check_int("epochs", epochs), _check_int("batch_size", batch_size)
    patience, seed = _check_int("patience", patience, low=0), _check_int("seed", seed, low=0)
    pgd_steps, ramp = _check_int("pgd_steps", pgd_steps), _check_int("ramp_epochs", ramp_epochs, low=0)
    if ramp > epochs:
        raise ValueError(f"Expected ramp_epochs <= epochs ({epochs}). Received: ramp_epochs={ramp_epochs!r}")
    if not getattr(model, "compiled", False):
        raise ValueError(f"Expected a compiled model. Received: model {model.name!r}, not compiled")
    try:
        x_val, y_val = validation_data
    except (TypeError, ValueError):
        raise ValueError("Expected validation_data=(x_val, y_val). "
                         f"Received: validation_data of type {type(validation_data).__name__}") from None
    y_shape, y_val_shape = np.shape(y), np.shape(y_val)
    (x, y), (x_val, y_val) = _check_data(x, y), _check_data(x_val, y_val)
    _check_model_fit(model, x, y, y_shape)
    _check_model_fit(model, x_val, y_val, y_val_shape)
    batches = math.ceil(len(y) / batch_size)
    rng, clean, robust, best_weights = np.random.default_rng(seed), [], [], None
    for epoch in range(epochs):
        order = rng.permutation(len(y))
        for step, start in enumerate(range(0, len(order), batch_size)):
            idx = order[start:start + batch_size]
            xb, yb = x[idx], y[idx]
            scale = min(1.0, (epoch + step / batches) / ramp) if ramp else 1.0
            if attack == "fgsm":
                x_adv = fgsm(model, xb, yb, eps * scale, batch_size=len(idx))
                xb, yb = np.concatenate([xb, x_adv]), np.concatenate([yb, yb])
            else:
                xb = pgd(model, xb, yb, eps * scale, steps=pgd_steps, batch_size=len(idx),
                         seed=seed * 100_003 + epoch * 1009 + start)
            model.train_on_batch(xb, yb)
        clean.append(_loss(model, x_val, y_val))
        if attack == "pgd":
            robust.append(None if epoch + 1 < ramp else
                          _loss(model, pgd(model, x_val, y_val, eps, steps=pgd_steps, seed=seed), y_val))
        losses = robust if attack == "pgd" else [None if k + 1 < ramp else v for k, v in enumerate(clean)]
        scored = [(loss, k) for k, loss in enumerate(losses) if loss is not None]
        if not scored:
            continue
        best, best_epoch = min(scored)
        if best_epoch == epoch:
            best_weights = model.get_weights()
        elif epoch - best_epoch >= patience:
            break
    model.set_weights(best_weights)
    history = {"val_loss": clean, "best_epoch": best_epoch + 1}
    return history | ({"adv_val_loss": robust} if attack == "pgd" else {})


def _loss(model, x, y):
    return float(model.evaluate(x, y, batch_size=512, verbose=0, return_dict=True)["loss"])
