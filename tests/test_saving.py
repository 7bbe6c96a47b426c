"""Model files: slim saves, cards, hostile archives, card-compiled and cross-backend loads."""

import json
import os
import subprocess
import sys
import time
import zipfile

import keras
import numpy as np
import pytest

from keras_seminar import saving
from keras_seminar.errors import UnsafeFileError
from keras_seminar.models import build_model
from tests._backends import other_backends

RECIPE = {"optimizer": "sgd", "learning_rate": 0.01, "label_smoothing": 0.1}


def _tiny_model():
    inputs = keras.Input((4,))
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="out")(inputs))


def test_slim_save_drops_optimizer_state_and_keeps_predictions(tmp_path, rng):
    model = build_model("softmax")
    model.compile("adam", "sparse_categorical_crossentropy")
    x = rng.random((32, 28, 28, 1), dtype=np.float32)
    model.fit(x, rng.integers(0, 10, 32), epochs=1, verbose=0)
    full = saving.save_model(model, str(tmp_path / "full.keras"))
    slim = saving.save_model(model, str(tmp_path / "slim.keras"), include_optimizer=False)
    assert (tmp_path / "slim.keras").stat().st_size < 0.6 * (tmp_path / "full.keras").stat().st_size
    assert slim["parameters"] == full["parameters"] == 7850
    loaded = saving.load_model(str(tmp_path / "slim.keras"))  # its card has no recipe
    assert getattr(loaded, "optimizer", None) is None
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_card_records_environment_and_describes_one_file(tmp_path):
    model = build_model("softmax")
    path = str(tmp_path / "m.keras")
    first = saving.save_model(model, path, card={"dataset": "mnist", "previous_sha256": "0" * 64})
    second = saving.save_model(model, path, card={"dataset": "mnist"})
    card = json.loads((tmp_path / "m.json").read_text())
    assert card == second and "previous_sha256" not in first and "previous_sha256" not in card
    assert card["environment"]["keras"] == keras.__version__
    assert card["environment"]["backend"] == keras.backend.backend()
    backend_module = __import__(keras.backend.backend())  # the backends are modules of that name
    assert card["environment"]["backend_version"] == backend_module.__version__


def test_save_removes_leftovers_of_killed_saves(tmp_path):
    dead = tmp_path / f".m.keras.ks-tmp-{2 ** 22 + 1}-0000beef.keras"  # no such pid
    legacy = tmp_path / ".m.keras.partial.keras"  # the fixed temp name of older saves
    for leftover in (dead, legacy):
        leftover.write_bytes(b"half a model")
    os.utime(legacy, (time.time() - 3600,) * 2)
    saving.save_model(_tiny_model(), str(tmp_path / "m.keras"))
    assert sorted(os.listdir(tmp_path)) == ["m.json", "m.keras"]


def test_load_requires_a_card_that_is_a_json_object(tmp_path):
    path = tmp_path / "m.keras"
    saving.save_model(_tiny_model(), str(path))
    card = tmp_path / "m.json"
    card.unlink()
    with pytest.raises(saving.ModelFileError, match=r"has no model card .*require_card=False"):
        saving.load_model(str(path))
    for bad in ("null", "[]", '"abc"'):
        card.write_text(bad)
        with pytest.raises(saving.ModelFileError, match=r"m.json holds .*not a JSON object"):
            saving.load_model(str(path))
    card.unlink()
    with pytest.warns(UserWarning, match="without any sha256 check"):
        assert saving.load_model(str(path), require_card=False).count_params() == 15


def _rewrite(src, dst, members):
    """A copy of the zip `src` with `members` ({name: bytes | (size, fill)}) replaced or added."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for name in zin.namelist():
            if name not in members:
                zout.writestr(name, zin.read(name))
        for name, data in members.items():
            if isinstance(data, bytes):
                zout.writestr(name, data)
                continue
            with zout.open(name, "w", force_zip64=True) as f:
                for _ in range(data // (1 << 20)):  # zeros, streamed: the zip stays tiny
                    f.write(bytes(1 << 20))


def test_hostile_archives_are_refused_before_keras_opens_them(tmp_path, monkeypatch):
    good = tmp_path / "good.keras"
    _tiny_model().save(good)
    created = []
    monkeypatch.setattr(keras.saving, "load_model", lambda *a, **k: created.append(a))
    bomb = tmp_path / "bomb.keras"  # six zero-filled members, as issue 16 found
    _rewrite(good, bomb, {f"assets/blob{i}.bin": 48 << 20 for i in range(6)})
    assert bomb.stat().st_size < 2 << 20
    with pytest.raises(saving.UnsafeModelFileError, match="assets/blob0.bin, .*does not have"):
        saving.load_model(str(bomb), require_card=False)
    weights = tmp_path / "weights.keras"  # an allowed name that unpacks to far more than its size
    _rewrite(good, weights, {"model.weights.h5": 64 << 20})
    with pytest.raises(UnsafeFileError, match=r"would unpack to \d+ bytes from \d+ on disk"):
        saving.load_model(str(weights), require_card=False)
    with pytest.raises(UnsafeFileError, match="at most 1000"):
        saving.load_model(str(good), require_card=False, max_bytes=1000)
    big = tmp_path / "big.keras"
    _rewrite(good, big, {"config.json": b"{" + b" " * (saving.MAX_CONFIG_BYTES + 1) + b"}"})
    with pytest.raises(UnsafeFileError, match="config.json of 16777219 bytes"):
        saving.load_model(str(big), require_card=False)
    assert created == []  # none of them reached Keras


@pytest.mark.parametrize("class_name, match", [
    ("TFSMLayer", "holds a TFSMLayer layer .*which safe_mode refuses"),
    ("Lambda", "holds a Lambda layer .*which safe_mode refuses"),
    ("__lambda__", "holds a Python lambda .*which safe_mode refuses"),
])
def test_refused_config_is_named(tmp_path, class_name, match):
    good = tmp_path / "good.keras"
    _tiny_model().save(good)
    with zipfile.ZipFile(good) as z:
        config = json.loads(z.read("config.json"))
    config["config"]["layers"][1]["class_name"] = class_name
    bad = tmp_path / "bad.keras"
    _rewrite(good, bad, {"config.json": json.dumps(config).encode()})
    with pytest.raises(saving.UnsafeModelFileError, match=match):
        saving.load_model(str(bad), require_card=False)


def test_slim_model_is_compiled_from_its_card(tmp_path, rng):
    model = _tiny_model()
    path = str(tmp_path / "m.keras")
    saving.save_model(model, path, card={"recipe": RECIPE}, include_optimizer=False)
    loaded = saving.load_model(path)
    assert isinstance(loaded.optimizer, keras.optimizers.SGD)
    assert loaded.loss.label_smoothing == pytest.approx(0.1)
    x, y = rng.random((16, 4), dtype=np.float32), rng.integers(0, 3, 16)
    result = loaded.evaluate(x, y, verbose=0, return_dict=True)
    accuracy = np.mean(np.argmax(model.predict(x, verbose=0), -1) == y)
    assert result["accuracy"] == pytest.approx(accuracy)
    before = loaded.get_weights()[0].copy()
    loaded.fit(x, y, epochs=1, verbose=0)  # fine-tunable
    assert not np.allclose(before, loaded.get_weights()[0])
    assert getattr(saving.load_model(path, compile=False), "optimizer", None) is None


def test_model_saved_on_one_backend_loads_compiled_on_another(tmp_path, rng):
    others = other_backends()
    if not others:
        pytest.skip(f"no backend besides {keras.backend.backend()} is installed here")
    other = others[0]
    model = _tiny_model()
    model.compile(keras.optimizers.Adam(0.5), "sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = rng.random((16, 4), dtype=np.float32), rng.integers(0, 3, 16)
    model.fit(x, y, epochs=2, verbose=0)  # optimizer state saved with the model
    path = str(tmp_path / "m.keras")
    saving.save_model(model, path, card={"recipe": RECIPE})
    np.savez(tmp_path / "xy.npz", x=x, y=y)
    code = ("import json, sys, numpy as np; from keras_seminar.saving import load_model\n"
            "d = np.load(sys.argv[2]); m = load_model(sys.argv[1])\n"
            "r = m.evaluate(d['x'], d['y'], verbose=0, return_dict=True)\n"
            "print(json.dumps({'opt': type(m.optimizer).__name__, 'steps': int(m.optimizer.iterations),"
            " 'acc': float(r['accuracy'])}))\n")
    env = {**os.environ, "KERAS_BACKEND": other, "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run([sys.executable, "-c", code, path, str(tmp_path / "xy.npz")], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    accuracy = float(np.mean(np.argmax(model.predict(x, verbose=0), -1) == y))
    assert got == {"opt": "SGD", "steps": 0, "acc": pytest.approx(accuracy)}  # from the card


def test_compile_config_naming_another_backend_loads_uncompiled(tmp_path, rng):
    """Keras records torch's own optimizer class, which another backend cannot restore."""
    other = "torch" if keras.backend.backend() != "torch" else "jax"
    model = _tiny_model()
    model.compile("adam", "sparse_categorical_crossentropy")
    good = tmp_path / "good.keras"
    model.save(good)
    with zipfile.ZipFile(good) as z:
        config = json.loads(z.read("config.json"))
    config["compile_config"]["optimizer"]["module"] = f"keras.src.backend.{other}.optimizers.x"
    path = tmp_path / "other.keras"
    _rewrite(good, path, {"config.json": json.dumps(config).encode()})
    with pytest.warns(UserWarning, match=f"saved under {other} .*call model.compile"):
        loaded = saving.load_model(str(path), require_card=False)
    assert not loaded.compiled
    x = rng.random((4, 4), dtype=np.float32)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_keras_refusals_and_unknown_classes_are_one_line(tmp_path, monkeypatch):
    good = tmp_path / "good.keras"
    _tiny_model().save(good)
    with zipfile.ZipFile(good) as z:
        config = json.loads(z.read("config.json"))
    config["config"]["layers"][1].update(class_name="NoSuchLayer", module=None,
                                         registered_name="custom>NoSuchLayer")
    unknown = tmp_path / "unknown.keras"
    _rewrite(good, unknown, {"config.json": json.dumps(config).encode()})
    with pytest.raises(saving.ModelFileError, match=r"names a class this process does not know"):
        saving.load_model(str(unknown), require_card=False)

    def refuse(*args, **kwargs):
        raise ValueError("Requested the deserialization of a `Thing`.\nPass `safe_mode=False`.")

    monkeypatch.setattr(keras.saving, "load_model", refuse)
    with pytest.raises(UnsafeFileError) as info:
        saving.load_model(str(good), require_card=False)
    assert str(info.value).endswith("safe_mode refuses: Requested the deserialization of a `Thing`.")
