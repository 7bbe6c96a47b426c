"""Model files: slim saves, cards, and the round trip through a fresh load."""

import json

import keras
import numpy as np

from keras_seminar import saving
from keras_seminar.models import build_model


def test_slim_save_drops_optimizer_state_and_keeps_predictions(tmp_path, rng):
    model = build_model("softmax")
    model.compile("adam", "sparse_categorical_crossentropy")
    x = rng.random((32, 28, 28, 1), dtype=np.float32)
    model.fit(x, rng.integers(0, 10, 32), epochs=1, verbose=0)
    full = saving.save_model(model, str(tmp_path / "full.keras"))
    slim = saving.save_model(model, str(tmp_path / "slim.keras"), include_optimizer=False)
    assert (tmp_path / "slim.keras").stat().st_size < 0.6 * (tmp_path / "full.keras").stat().st_size
    assert slim["parameters"] == full["parameters"] == 7850
    loaded = saving.load_model(str(tmp_path / "slim.keras"), verify=True)
    assert getattr(loaded, "optimizer", None) is None
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_card_records_environment_and_previous_digest(tmp_path):
    model = build_model("softmax")
    path = str(tmp_path / "m.keras")
    first = saving.save_model(model, path, card={"dataset": "mnist"})
    second = saving.save_model(model, path, card={"dataset": "mnist"})
    card = json.loads((tmp_path / "m.json").read_text())
    assert card == second and card["previous_sha256"] == first["sha256"]
    assert card["environment"]["keras"] == keras.__version__
    assert card["environment"]["backend"] == keras.backend.backend()
    backend_module = __import__(keras.backend.backend())  # the backends are modules of that name
    assert card["environment"]["backend_version"] == backend_module.__version__
