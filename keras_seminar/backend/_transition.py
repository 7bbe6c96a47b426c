"""TEMPORARY (removed when tuning and the experiments call `training.fit_model`)."""

from keras_seminar.backend.data_order import epoch_ordered_batches


def fit_reshuffled(model, x, y, batch_size, seed=None, **fit_kwargs):
    ordered = epoch_ordered_batches(x, y, batch_size, seed)
    if ordered is None:
        return model.fit(x, y, batch_size=batch_size, shuffle=True, **fit_kwargs)
    batches, tracker = ordered
    fit_kwargs["callbacks"] = [tracker, *(fit_kwargs.get("callbacks") or [])]
    return model.fit(batches, shuffle=False, **fit_kwargs)
