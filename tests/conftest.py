"""Shared fixtures. The backend comes from $KERAS_BACKEND (.ci/test.sh runs the suite per backend)."""

import os

import numpy as np
import pytest

from tests._backends import installed


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run slow tests")


def pytest_collection_modifyitems(config, items):
    if not installed("tensorflow"):
        no_tf = pytest.mark.skip(reason="needs TensorFlow, which this environment does not have")
        for item in items:
            if item.get_closest_marker("tensorflow") is not None:
                item.add_marker(no_tf)
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: pass --runslow to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def pytest_report_header(config):
    import keras

    return f"keras {keras.__version__}, backend {keras.backend.backend()}"


_TESTS_SINCE_GC = [0]


@pytest.fixture(autouse=True)
def _clear_keras_session():
    import keras

    # A full gc.collect() (clear_session's default) costs ~1 s per test once TensorFlow's heap is
    # large: half the suite's time. Python's own collector still runs; a full one every 50 tests
    # bounds what cycles may hold.
    _TESTS_SINCE_GC[0] = (_TESTS_SINCE_GC[0] + 1) % 50
    keras.utils.clear_session(free_memory=_TESTS_SINCE_GC[0] == 0)
    keras.mixed_precision.set_global_policy("float32")
    yield
    keras.mixed_precision.set_global_policy("float32")


@pytest.fixture(scope="session")
def fashion():
    """The real Fashion-MNIST (prepared by `keras-seminar data prepare`)."""
    from keras_seminar import datasets

    return datasets.load("fashion_mnist", validation_split=0.1, seed=0, download=False)


@pytest.fixture(scope="session")
def mnist():
    from keras_seminar import datasets

    return datasets.load("mnist", validation_split=0.1, seed=0, download=False)


@pytest.fixture(scope="session")
def fashion_small(fashion):
    """512 train / 256 test images of the real Fashion-MNIST, as float32 in [0, 1]."""
    x = fashion.x_train[:512].astype("float32")[..., None] / 255.0
    xt = fashion.x_test[:256].astype("float32")[..., None] / 255.0
    return x, fashion.y_train[:512], xt, fashion.y_test[:256]


@pytest.fixture
def backend():
    return os.environ.get("KERAS_BACKEND", "tensorflow")


@pytest.fixture
def rng():
    return np.random.default_rng(0)
