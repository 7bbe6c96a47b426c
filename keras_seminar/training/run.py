"""`train()`: resolve -> prepare -> fit -> evaluate -> write, under the run's locks."""

import contextlib
import dataclasses
import os
import shutil
import sys

import keras

from keras_seminar import _io, backend, datasets, hparams, saving
from keras_seminar.callbacks import AtomicBackupAndRestore, TensorBoard, make_monitors
from keras_seminar.training.config import TrainConfig
from keras_seminar.training.data import prepare_arrays
from keras_seminar.training.fit import fit_arrays, test_metrics
from keras_seminar.training.plan import _jsonable, resolve
from keras_seminar.training.resume import check_resume, clean_run_files

__all__ = ["CHANCE_MARGIN", "fit", "health_warnings", "prepare", "Prepared", "train", "write"]

CHANCE_MARGIN = 0.02  # test accuracy <= 1/num_classes + this is "at chance"


@dataclasses.dataclass(frozen=True)
class Prepared:
    """The arrays a run trains and tests on, and how many devices share each batch."""

    data: object
    x_train: object
    y_train: object
    x_val: object
    y_val: object
    x_test: object
    y_test: object
    replicas: int
    scope: object


def _even(x, y, replicas):
    n = len(x) - len(x) % replicas
    return x[:n], y[:n]


def prepare(plan):
    """Loads the data set, slices it and opens the distribution scope."""
    c = plan.config
    keras.utils.set_random_seed(c.seed)
    data = datasets.load(c.dataset, c.validation_split, c.seed, c.data_dir)
    a = prepare_arrays(data, train_limit=c.train_limit, test_limit=c.test_limit)
    x_train, y_train, x_val, y_val = a.x_train, a.y_train, a.x_val, a.y_val
    if c.compile_cache:
        backend.enable_compilation_cache(c.compile_cache)
    scope, replicas = backend.data_parallel_scope() if c.distribute else (
        contextlib.nullcontext(), 1)
    if plan.recipe.batch_size % replicas:
        raise ValueError(f"Expected batch_size divisible by the {replicas} devices. "
                         f"Received: batch_size={plan.recipe.batch_size}")
    if replicas > 1:  # every batch, the last one too, must split evenly over the devices
        (x_train, y_train), (x_val, y_val) = _even(x_train, y_train, replicas), _even(x_val, y_val, replicas)
    return Prepared(data, x_train, y_train, x_val, y_val, a.x_test, a.y_test, replicas, scope)


def fit(plan, p):
    """Builds the model and trains the epochs the backup does not hold yet."""
    c = plan.config
    backup = AtomicBackupAndRestore(plan.backup_dir, plan=plan.record())
    callbacks = [backup, TensorBoard(plan.run_dir), *c.callbacks]
    if c.monitors:
        probe_x, probe_y = (p.x_val, p.y_val) if len(p.x_val) else (p.x_train, p.y_train)
        callbacks += make_monitors(c.monitors, plan.run_dir, probe_x[:512], probe_y[:512])
    model = plan.build(p.data.input_shape + (1,), p.data.num_classes)
    fit_arrays(model, plan.recipe, p.x_train, p.y_train,
               validation_data=(p.x_val, p.y_val) if len(p.x_val) else None,
               callbacks=callbacks, verbose=c.verbose, seed=c.seed,
               steps_per_execution=plan.steps_per_execution, fused=c.fused)
    return model, backup


def health_warnings(history, test, num_classes, split="test"):
    """Why a finished run is not a trained model: the loss rose, or the accuracy on `split`
    (`test["accuracy"]`; tuning passes its validation accuracy and `split="validation"`) is at
    chance. Empty when neither."""
    warnings, loss = [], history.get("loss") or []
    if len(loss) >= 2 and loss[-1] > loss[0]:
        warnings.append(f"the training loss rose from {loss[0]:.4g} (epoch 1) to {loss[-1]:.4g} "
                        f"(epoch {len(loss)}); lower the learning rate")
    chance = 1.0 / num_classes
    if test["accuracy"] <= chance + CHANCE_MARGIN:
        warnings.append(f"the {split} accuracy {test['accuracy']:.4f} is at chance "
                        f"(1/{num_classes} = {chance:.3f}); the model has not learned")
    return warnings


def write(plan, model, p, backup, test):
    """The model and its card, metrics.json and the run's HParams session."""
    c, state = plan.config, backup.read_state() or {}
    history = {k: [float(v) for v in vs] for k, vs in backup.history.items()}
    result = {
        "run_name": c.run_name, "model": c.model, "dataset": c.dataset, "seed": c.seed,
        "epochs": plan.recipe.epochs, "recipe": dataclasses.asdict(plan.recipe),
        "model_options": _jsonable(plan.model_options), "plan": plan.record(),
        "data_source": p.data.source, "train_examples": len(p.x_train),
        "test_examples": len(p.x_test), "test": test,
        "test_time_augmentation": "flip" if plan.recipe.tta else None, "fused": c.fused,
        "train_seconds": round(float(state.get("train_seconds", 0.0)), 2),
        "replicas": p.replicas, "history": history,
        "warnings": health_warnings(history, test, p.data.num_classes),
        "environment": saving.environment(),
    }
    card = saving.save_model(model, plan.model_path, card={
        "architecture": plan.spec.description,
        **{k: v for k, v in result.items() if k != "history"}}, include_optimizer=not c.slim)
    result["model_path"], result["sha256"] = plan.model_path, card["sha256"]
    _io.atomic_write_json(os.path.join(plan.run_dir, "metrics.json"), result)
    last = {f"final/{k}": v[-1] for k, v in history.items() if v}
    hparams.write_session(c.runs_dir, c.run_name,
                          {"model": c.model, "dataset": c.dataset, "seed": c.seed,
                           "recipe": result["recipe"], "options": result["model_options"],
                           "train_limit": c.train_limit or "all", "test_limit": c.test_limit or "all",
                           "monitors": ",".join(c.monitors) or "none"},
                          {**last, **{f"test/{k}": v for k, v in test.items()}},
                          status="COMPLETED" if not result["warnings"] else "FAILED")
    return result


def train(config=None, **overrides):
    """Trains, evaluates on the test set and saves one model; returns the results as a dict.

    Writes `runs/<run_name>/` (TensorBoard logs and HParams session, resumable backup,
    metrics.json) and `<models_dir>/<run_name>.keras` with its card (models_dir defaults to
    the run folder). The same command again resumes a killed run, reports a finished one
    without rewriting anything, and with a larger `epochs` trains only the missing epochs
    (constant learning rate only); a command that disagrees with the run's backup raises
    `RunConflict` naming the difference. `result["warnings"]` lists why a run that finished
    did not learn (loss rose, accuracy at chance); `TrainingDiverged` is raised on a NaN loss,
    and the backup keeps the last finite epoch.

    Example:
        >>> result = train(TrainConfig(model="softmax", dataset="mnist", epochs=2))
        >>> again = train(TrainConfig(model="softmax", dataset="mnist", epochs=3))  # 1 more epoch
    """
    if config is not None and not isinstance(config, TrainConfig):
        raise ValueError(f"Expected config to be a TrainConfig. Received: config={config!r}")
    config = dataclasses.replace(config, **overrides) if config else TrainConfig(**overrides)
    plan = resolve(config)
    with _io.FileLock(plan.run_dir), _io.FileLock(plan.model_path):
        if not config.resume and os.path.isdir(plan.backup_dir):
            shutil.rmtree(plan.backup_dir)
        clean_run_files(plan)
        resume = check_resume(plan)
        if resume.message:
            print(f"keras-seminar: {resume.message}", file=sys.stderr)
        if resume.finished is not None:
            return resume.finished
        p = prepare(plan)
        with p.scope:
            model, backup = fit(plan, p)
            test = test_metrics(model, p.x_test, p.y_test, p.replicas, tta=plan.recipe.tta)
        return write(plan, model, p, backup, test)
