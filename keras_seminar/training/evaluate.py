"""`evaluate_saved`: the test accuracy of a saved model, as `keras-seminar evaluate` prints it."""

from keras_seminar import _validators as v
from keras_seminar import datasets, saving
from keras_seminar.errors import UsageError
from keras_seminar.training.fit import images_to_inputs, test_metrics
from keras_seminar.training.plan import flips_allowed

__all__ = ["evaluate_saved"]


def evaluate_saved(path, dataset=None, data_dir=None, limit=None, batch_size=512,
                   require_card=True):
    """Test-set metrics of a saved model; the data set defaults to the one on its card.

    Raises `UsageError` when the model's output has another number of classes than the data
    set (a 3-class model on MNIST), before anything is predicted. `require_card=False` loads a
    file that has no card (unchecked, with a warning from `saving.load_model`).

    Example:
        >>> evaluate_saved("saved_models/cnn_fashion_mnist.keras", limit=1000)["accuracy"]
    """
    limit = v.check_int("limit", limit, 1, allow_none=True)
    batch_size = v.check_int("batch_size", batch_size, 1)
    model = saving.load_model(path, require_card=require_card)
    card = saving.read_card(path)
    card = card if isinstance(card, dict) else {}
    dataset = dataset or card.get("dataset")
    if dataset is None:
        raise UsageError(f"{path} has no card naming its dataset; pass the data set it was "
                         "trained on (dataset=...).")
    dataset = v.check_choice("dataset", dataset, datasets.DATASETS)
    data = datasets.load(dataset, validation_split=0.0, data_dir=data_dir)
    classes = model.output_shape[-1] if isinstance(model.output_shape, tuple) else None
    if classes != data.num_classes:
        raise UsageError(f"{path} predicts {classes} classes, but {dataset} has "
                         f"{data.num_classes}; evaluate it on the data set it was trained on"
                         f"{' (' + str(card.get('dataset')) + ')' if card.get('dataset') else ''}.")
    x, y = images_to_inputs(data.x_test[:limit]), data.y_test[:limit]
    tta = card.get("test_time_augmentation") == "flip" and flips_allowed(dataset)
    accuracy = test_metrics(model, x, y, batch_size=batch_size, tta=tta)["accuracy"]
    test = card.get("test")
    return {"model": path, "dataset": dataset, "examples": len(y), "accuracy": accuracy,
            "card_accuracy": test.get("accuracy") if isinstance(test, dict) else None}
