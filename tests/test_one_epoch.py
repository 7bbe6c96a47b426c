"""One epoch of the real training path on a tiny slice: the smoke run every backend's CI job makes."""

import numpy as np

from keras_seminar import saving
from keras_seminar.training import TrainConfig, images_to_inputs, train


def test_one_epoch_trains_saves_and_reloads(tmp_path, mnist):
    result = train(TrainConfig(
        model="softmax", dataset="mnist", epochs=1, batch_size=64, train_limit=1024,
        test_limit=256, validation_split=0.05, run_name="smoke", runs_dir=str(tmp_path / "runs"),
        models_dir=str(tmp_path / "models"), verbose=0))
    assert len(result["history"]["loss"]) == 1 and np.isfinite(result["history"]["loss"][0])
    # Chance is 0.1; one epoch of 1024 digits under the softmax recipe reaches 0.4-0.5.
    assert result["test"]["accuracy"] > 0.25
    model = saving.load_model(str(tmp_path / "models" / "smoke.keras"))
    x = images_to_inputs(mnist.x_test[:256])  # the same first 256 test digits
    accuracy = np.mean(np.argmax(model.predict(x, verbose=0), -1) == mnist.y_test[:256])
    assert abs(accuracy - result["test"]["accuracy"]) < 0.02
