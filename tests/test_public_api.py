"""Every public module of the package says what it exports: `__all__`, and nothing else leaks."""

import importlib
import inspect
import pkgutil
import types

import keras_seminar.experiments
import keras_seminar.tuning
import pytest

import keras_seminar


def _public_modules():
    """The core package's public modules and packages, and the modules (not the packages) of
    keras_seminar.tuning and keras_seminar.experiments (installed from the repo's tuning/ and
    experiments/ folders, which an editable install maps outside keras_seminar/)."""
    names = ["keras_seminar"]
    for package in (keras_seminar, keras_seminar.tuning, keras_seminar.experiments):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not any(part.startswith("_") for part in info.name.split(".")):
                names.append(info.name)
    return sorted(set(names))


@pytest.mark.parametrize("name", _public_modules())
def test_public_module_declares_all(name):
    module = importlib.import_module(name)
    assert isinstance(getattr(module, "__all__", None), list), f"{name} has no __all__"
    exported = {n: getattr(module, n, None) for n in module.__all__}
    assert [n for n in module.__all__ if not hasattr(module, n)] == [], f"{name}.__all__ names missing attributes"
    # A submodule may be exported from its package, never an imported library (fnmatch, keras).
    leaked = [n for n, v in exported.items() if isinstance(v, types.ModuleType)
              and not v.__name__.startswith(name + ".")]
    assert leaked == [], f"{name}.__all__ exports imported modules {leaked}"
    if not hasattr(module, "__path__"):  # a module: what it defines is in __all__
        defined = [n for n, v in vars(module).items() if not n.startswith("_")
                   and (inspect.isfunction(v) or inspect.isclass(v)) and v.__module__ == name]
        assert sorted(set(defined) - set(module.__all__)) == [], f"{name} defines names not in __all__"


def test_constraints_star_import_is_the_api():
    namespace = {}
    exec("from keras_seminar.constraints import *", namespace)
    assert not {"fnmatch", "inspect", "keras", "ops"} & set(namespace)
    assert {"NonNeg", "NonNegMaxNorm", "apply_constraint", "get"} <= set(namespace)
