"""A recipe's fit: inputs, optimizer, compile, `fit_arrays` (through the engine), test metrics.

Example:
    >>> history = fit_arrays(models.build_model("softmax"), recipe_for("softmax", epochs=1),
    ...                      images_to_inputs(x), y)
"""

import keras
import numpy as np

from keras_seminar.losses import SparseCategoricalCrossentropy
from keras_seminar.optimizers import optimizer_for
from keras_seminar.training.engine import fit_model

__all__ = ["compile_model", "fit_arrays", "images_to_inputs", "make_optimizer", "test_metrics"]


def images_to_inputs(x):
    """uint8 images (N, 28, 28) -> float32 in [0, 1] with a channel axis (N, 28, 28, 1)."""
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., None]
    if x.dtype == np.uint8:
        out = x.astype("float32")
        out /= 255.0  # in place: the same values as `x / 255.0`, one copy fewer
        return out
    return x.astype("float32")


def make_optimizer(recipe, steps_per_epoch):
    """The optimizer and learning-rate schedule a recipe asks for (over `recipe.epochs`)."""
    total = max(1, recipe.epochs * steps_per_epoch)
    lr = recipe.learning_rate
    if recipe.schedule == "constant":
        schedule = lr
    elif recipe.schedule == "cosine":
        schedule = keras.optimizers.schedules.CosineDecay(lr, decay_steps=total)
    elif recipe.schedule == "onecycle":
        warmup = int(total * recipe.warmup)
        schedule = keras.optimizers.schedules.CosineDecay(
            lr / 10.0, decay_steps=max(1, total - warmup), warmup_target=lr, warmup_steps=warmup)
    else:
        raise ValueError(f"Unknown schedule {recipe.schedule!r}. Expected constant, cosine, onecycle.")
    return optimizer_for(recipe.optimizer, schedule, recipe.weight_decay)


def compile_model(model, recipe, steps_per_epoch, steps_per_execution=1):
    """Compiles `model` with the recipe's optimizer, schedule and label-smoothed loss."""
    loss = SparseCategoricalCrossentropy(label_smoothing=recipe.label_smoothing)
    model.compile(optimizer=make_optimizer(recipe, steps_per_epoch), loss=loss,
                  metrics=["accuracy"], steps_per_execution=steps_per_execution)
    return model


def fit_arrays(model, recipe, x_train, y_train, validation_data=None, callbacks=(), verbose=0,
               seed=None, epochs=None, steps_per_execution=1, fused=False):
    """Compiles `model` for `recipe` (optimizer, schedule, label smoothing) and fits it with
    `training.engine.fit_model` (a new order every epoch; `TrainingDiverged` on a NaN loss).

    Args:
        model: an uncompiled (or to be recompiled) `keras.Model`.
        recipe: a `models.Recipe` (see `recipe_for`).
        x_train, y_train: float inputs and integer labels.
        validation_data: `(x_val, y_val)` or None.
        callbacks: extra Keras callbacks.
        verbose: Keras's `verbose`.
        seed: seeds Keras before compiling (weights already built are not re-drawn) and the
            order of every epoch.
        epochs: total epochs (default `recipe.epochs`); a backup callback may start it later.
        steps_per_execution, fused: see `TrainConfig` (here None means 1 step per call, or a
            whole epoch with `fused`).

    Returns:
        The `keras.callbacks.History` of this fit.
    """
    if seed is not None:
        keras.utils.set_random_seed(seed)
    steps = -(-len(x_train) // recipe.batch_size)
    compile_model(model, recipe, steps, 1 if fused or not steps_per_execution else steps_per_execution)
    per_call = steps_per_execution if fused and (steps_per_execution or 1) > 1 else None
    return fit_model(model, x_train, y_train, batch_size=recipe.batch_size,
                     epochs=recipe.epochs if epochs is None else epochs, seed=seed,
                     steps_per_execution=per_call, fused=fused, callbacks=callbacks,
                     validation_data=validation_data, verbose=verbose,
                     advice=f"Lower the learning rate (now {recipe.learning_rate}) or the "
                            "regularizer strength.")


def test_metrics(model, x, y, replicas=1, batch_size=512, tta=False):
    """Accuracy and cross-entropy on the whole test set.

    The inputs are padded to a multiple of `replicas` (data-parallel batches must split evenly)
    and the padding is dropped from the predictions, so no test example is lost. With `tta`
    the probabilities are the mean over each image and its left-right mirror image.
    """
    pad = (-len(x)) % replicas
    x_padded = np.concatenate([x, np.zeros((pad, *x.shape[1:]), x.dtype)]) if pad else x
    probs = np.asarray(model.predict(x_padded, batch_size=batch_size, verbose=0),
                       dtype=np.float64)[: len(x)]
    if tta:
        mirrored = np.asarray(model.predict(x_padded[:, :, ::-1], batch_size=batch_size, verbose=0),
                              dtype=np.float64)[: len(x)]
        probs = (probs + mirrored) / 2
    p_true = np.clip(probs[np.arange(len(y)), y], 1e-7, 1.0)
    return {"accuracy": float(np.mean(np.argmax(probs, -1) == y)),
            "loss": float(-np.mean(np.log(p_true)))}
