"""NaNGuard names the step, or the steps of one compiled call, where the loss became non-finite."""

import keras
import numpy as np
import pytest

from keras_seminar.callbacks import NaNGuard


@pytest.mark.parametrize("steps_per_execution, where", [(1, 5), (4, "4-7")])
def test_reports_the_step_or_the_steps_of_the_call(steps_per_execution, where):
    x = np.ones((64, 3), "float32")
    x[5 * 8] = np.nan  # batch size 8: the sixth batch (step 5) holds the NaN
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  steps_per_execution=steps_per_execution)
    guard = NaNGuard()
    model.fit(x, np.zeros(64, "int32"), batch_size=8, epochs=2, shuffle=False, verbose=0,
              callbacks=[guard])
    epoch, batch, loss = guard.diverged_at
    assert (epoch, batch) == (0, where) and not np.isfinite(loss)
