"""The model contract: every spec's declared options reach its builder, undeclared ones are
refused by name, shapes are checked before the backend sees them, builder bugs surface."""

import functools

import numpy as np
import pytest

from keras_seminar import models
from keras_seminar.errors import UsageError
from keras_seminar.models import ModelSpec, Recipe, build_model, get_spec, registry

# A sample value for every option a spec may declare; small so each build is quick.
SAMPLES = {
    "kernel_regularizer": "l2", "kernel_constraint": "nonneg", "output_constraint": "nonneg",
    "kernel_initializer": "he_normal", "activation": "relu", "dropout": 0.1, "drop_connect": 0.1,
    "augment": {"translate": 0.1}, "classifier_activation": None, "name": "sample",
    "hidden": (8, 4), "filters": (4, 8), "kernel_size": 3, "dense_units": 8, "units": 8,
    "num_layers": 2, "bidirectional": True, "stackwise_units": (8, 8), "num_pieces": 2,
    "input_dropout": 0.1, "pooling": "average", "stackwise_num_filters": (4, 8, 8),
    "stackwise_num_blocks": (1, 1, 1), "stackwise_strides": (1, 2, 2), "block_type": "basic",
    "preact": True, "stem_filters": 4, "depth": 10, "width": 1, "use_batchnorm": False,
    "stackwise_kernel_sizes": (3, 3), "stackwise_pooling": ("max",),
    "stackwise_num_layers": (1, 1, 1), "growth_rate": 4, "compression": 0.5, "bottleneck": 2,
}
# Where one family reads an option's shape differently (keyed by the builder function).
FAMILY_SAMPLES = {
    "build_lenet5": {"stackwise_num_filters": (2, 4), "dense_units": (8, 4)},
    "build_nin": {"stackwise_num_filters": ((4, 4), (4, 4))},
    "build_speedrun": {"stackwise_num_filters": (4, 8)},
    "build_maxout_cnn": {"stackwise_num_filters": (4, 4)},
}


def _family(spec):
    return getattr(spec.builder, "func", spec.builder).__name__


@pytest.mark.parametrize("name", models.available())
def test_every_declared_option_reaches_the_builder(name):
    spec = get_spec(name)
    assert spec.options <= set(SAMPLES), f"add a sample value for {spec.options - set(SAMPLES)}"
    options = {k: FAMILY_SAMPLES.get(_family(spec), {}).get(k, SAMPLES[k]) for k in spec.options}
    model = spec.build(input_shape=(28, 28, 1), num_classes=3, **options)  # a TypeError fails here
    assert model.name == "sample" and tuple(model.output.shape) == (None, 3)
    assert set(spec.defaults) <= spec.options


@pytest.mark.parametrize("name", models.available())
def test_common_options_are_declared_or_refused(name):
    spec = get_spec(name)
    for option in sorted(registry.COMMON_OPTIONS - spec.options):
        with pytest.raises(UsageError, match=f"Model '{name}' does not take option '{option}'. It takes: "):
            build_model(name, **{option: SAMPLES[option]})


def test_softmax_and_speedrun_take_the_kernel_options():
    for name in ("softmax", "speedrun_small"):
        assert {"kernel_regularizer", "kernel_constraint", "output_constraint"} <= get_spec(name).options
    head = build_model("softmax", kernel_constraint="nonneg").get_layer("predictions_dense")
    assert type(head.kernel_constraint).__name__ == "NonNeg"
    assert "dropout" not in get_spec("softmax").options and "dropout" not in get_spec("speedrun").options


def test_undeclared_option_is_refused_before_the_builder_runs():
    calls = []

    def builder(input_shape, num_classes, depth=1):
        calls.append(depth)

    spec = ModelSpec("tiny", builder, Recipe(), "a test model")
    assert spec.options == {"depth"} and spec.defaults == {"depth": 1}  # the signature declares
    with pytest.raises(UsageError, match=r"Model 'tiny' does not take option 'width'. It takes: \['depth'\]"):
        spec.build(width=2)
    assert calls == []


def test_a_type_error_inside_a_builder_is_not_masked():
    def builder(input_shape, num_classes, width=1):
        return len(width)  # a bug: TypeError inside the builder

    spec = ModelSpec("buggy", builder, Recipe(), "a test model")
    with pytest.raises(TypeError, match="has no len"):
        spec.build(width=2)


@pytest.mark.parametrize("input_shape", [None, (), (28, 0, 1), (28.0, 28, 1), "28x28", (True, 2)])
def test_bad_input_shape_names_it(input_shape):
    with pytest.raises(UsageError, match=r"Expected input_shape .* Received: input_shape="):
        build_model("softmax", input_shape=input_shape)


@pytest.mark.parametrize("name", ["cnn", "lenet5", "maxout_cnn", "speedrun_small"])
def test_too_small_input_names_input_shape(name):
    with pytest.raises(UsageError, match=r"large enough for model .* Received: input_shape=\(2, 2, 1\)"):
        build_model(name, input_shape=(2, 2, 1))


def test_a_bad_option_is_not_blamed_on_the_input_shape():
    with pytest.raises(ValueError, match="dropout=1.5") as info:
        build_model("cnn", input_shape=(2, 2, 1), dropout=1.5)
    assert not isinstance(info.value, UsageError)  # the builder's own message, unwrapped


@pytest.mark.parametrize("num_classes", [1, True, 2.0, "10", None])
def test_bad_num_classes(num_classes):
    with pytest.raises(UsageError, match="Received: num_classes="):
        build_model("softmax", num_classes=num_classes)


def test_numpy_integers_are_accepted():
    model = build_model("softmax", input_shape=np.array([28, 28, 1]).tolist(), num_classes=np.int64(3))
    assert tuple(model.output.shape) == (None, 3)
    model = build_model("softmax", input_shape=tuple(np.int64(d) for d in (4, 4, 1)))
    assert tuple(model.input.shape) == (None, 4, 4, 1)


def test_unknown_model_lists_the_available_ones():
    with pytest.raises(UsageError, match=r"Unknown model 'vgg'. Expected one of \[.*'cnn'.*\]"):
        get_spec("vgg")
    with pytest.raises(UsageError, match="Unknown model"):
        build_model("vgg")


def test_spec_is_a_frozen_record_and_the_old_api_agrees():
    spec = get_spec("cnn")
    with pytest.raises(AttributeError):
        spec.recipe = Recipe()
    assert models.get_recipe("cnn") is spec.recipe and models.describe("cnn") == spec.description
    assert not hasattr(registry, "_entry")  # the positional record is gone
    assert spec.defaults["dropout"] == 0.5 and callable(spec.search_space)


def test_registration_refuses_duplicates_and_undeclared_builders():
    with pytest.raises(ValueError, match="name='cnn'"):
        registry.register(get_spec("cnn"))
    with pytest.raises(ValueError, match="search_space to be a function"):
        ModelSpec("x", build_model, Recipe(), "", {"width": ("filters",)})

    def loose(input_shape, num_classes, filters, **options):
        pass

    with pytest.raises(ValueError, match=r"keyword parameter with a default .* \['filters', 'options'\]"):
        ModelSpec("x", loose, Recipe(), "")


def test_partials_keep_their_configuration():
    spec = get_spec("resnet56")
    assert isinstance(spec.builder, functools.partial)
    assert spec.defaults["stackwise_num_blocks"] == [9, 9, 9] and spec.defaults["name"] == "resnet56"
