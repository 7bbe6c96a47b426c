"""keras_seminar.hparams: sessions TensorBoard's HParams dashboard reads back."""

from keras_seminar.hparams import flatten, read_sessions, write_session


def test_sessions_read_back_with_flat_hparams_status_and_scalars(tmp_path):
    write_session(tmp_path, "a", {"model": "cnn", "recipe": {"learning_rate": 1e-3, "augment": None},
                                  "options": {"hidden": [64, 64]}, "fused": False, "seed": 0,
                                  "limit": None},
                  {"test/accuracy": 0.9, "loss": [2.0, float("nan"), 1.0]})
    write_session(tmp_path, "b", {"model": "mlp"}, {"test/accuracy": 0.1}, status="FAILED")
    sessions = read_sessions(tmp_path)
    a, b = sessions["a"], sessions["b"]
    assert a["hparams"] == {"model": "cnn", "recipe.learning_rate": 1e-3,  # a float stays one
                            "options.hidden": "[64, 64]", "fused": False, "seed": "0"}
    assert a["status"] == "STATUS_SUCCESS" and b["status"] == "STATUS_FAILURE"
    assert a["scalars"] == ["loss", "test/accuracy"]


def test_writing_a_session_again_replaces_it(tmp_path):
    write_session(tmp_path, "run", {"epochs": 2}, {"test/accuracy": 0.5})
    (tmp_path / "run" / "train").mkdir()
    (tmp_path / "run" / "train" / "keep").write_text("a sub-folder is never touched")
    write_session(tmp_path, "run", {"epochs": 3}, {"test/accuracy": 0.6})
    assert len(list((tmp_path / "run").glob("*.hparams"))) == 1
    assert read_sessions(tmp_path)["run"]["hparams"] == {"epochs": "3"}
    assert (tmp_path / "run" / "train" / "keep").exists()


def test_flatten():
    assert flatten({"a": {"b": 1, "c": {"d": "x"}}, "e": (1, 2), "f": {}}) == {
        "a.b": 1, "a.c.d": "x", "e": "[1, 2]", "f": {}}
