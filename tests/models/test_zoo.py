"""The model zoo: every family builds, trains a step, reloads safely, checks its options and has
the published size. Deep nets are tested through their smallest member (ResNet-20, WRN-16-4)."""

import keras
import numpy as np
import pytest

from keras_seminar.models import available, build_model, get_recipe, get_spec, registry

# (registered name, options): the deep families also run shallow (same builder, fewer blocks) so
# a train step stays fast on a 2-core CPU; the full-size ones are behind the slow marker.
ZOO = [("lenet5", {}), ("resnet20", {}), ("resnet20_v2", {"stackwise_num_blocks": [1, 1, 1]}),
       ("wrn16_4", {"depth": 10, "width": 2}), ("lstm", {}), ("bilstm", {}), ("maxout_mlp", {}),
       ("maxout_cnn", {}), ("nin", {}), ("speedrun_small", {"augment": {"shift": 2, "flip": True}}),
       ("speedrun", {"stackwise_num_filters": [8, 16]}), ("mlp", {"hidden": [16, 8], "dropout": 0.1}),
       ("softmax", {}), ("cnn", {"filters": [4, 8], "dense_units": 16}), ("fast_cnn", {}),
       ("speedrun_cpu", {}),
       pytest.param("resnet20_v2", {}, marks=pytest.mark.slow),
       pytest.param("wrn16_4", {}, marks=pytest.mark.slow)]
DEEP = ["resnet32", "resnet56", "resnet110", "resnet56_v2", "wrn28_10"]
ALL = ["softmax", "cnn", "mlp", "maxout_mlp_paper", "lenet5", "resnet20", "resnet20_v2", "lstm", "bilstm", "maxout_mlp", "maxout_cnn", "nin",
       "wrn16_4", "speedrun", "speedrun_small", "speedrun_cpu", "fast_cnn", *DEEP]


def _images(rng, n=2):
    return rng.random((n, 28, 28, 1)).astype("float32")


def test_every_family_is_registered():
    assert set(ALL) <= set(available())


@pytest.mark.parametrize("name, options", ZOO)
def test_builds_trains_and_reloads(name, options, rng, tmp_path):
    model = build_model(name, **options)
    head = model.layers[-1]
    assert head.name == "predictions" and isinstance(head, keras.layers.Activation)
    assert model.output.dtype == "float32" and tuple(model.output.shape) == (None, 10)

    x, y = _images(rng), np.array([3, 7])
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy")
    before = [keras.ops.convert_to_numpy(w).copy() for w in model.trainable_weights]
    loss = model.train_on_batch(x, y)
    assert np.isfinite(loss)
    after = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
    assert any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))

    probs = keras.ops.convert_to_numpy(model(x, training=False))  # eager: no extra compile
    np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-5)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert [w.name for w in loaded.layers] == [w.name for w in model.layers]
    reloaded = keras.ops.convert_to_numpy(loaded(x, training=False))
    np.testing.assert_allclose(reloaded, probs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["lenet5", "resnet20", "lstm", "maxout_cnn", "nin", "speedrun"])
def test_layer_names_are_deterministic(name):
    first = [layer.name for layer in build_model(name).layers]
    second = [layer.name for layer in build_model(name).layers]  # auto-names would count up
    assert first == second


@pytest.mark.parametrize("name", ["lenet5", "resnet20_v2", "lstm", "maxout_mlp", "nin"])
def test_mixed_precision_keeps_float32_probabilities(name, rng):
    keras.mixed_precision.set_global_policy("mixed_float16")
    model = build_model(name)
    probs = keras.ops.convert_to_numpy(model(_images(rng), training=False))
    assert probs.dtype == np.float32 and np.all(np.isfinite(probs))


@pytest.mark.parametrize(
    "name, expected, rtol",
    [
        ("lenet5", 61_706, 0),  # LeCun 1998 with a fully connected C3
        ("resnet20", 0.27e6, 0.03),  # He et al. 2016, table 6
        ("resnet32", 0.46e6, 0.03),
        ("resnet56", 0.85e6, 0.03),
        pytest.param("resnet110", 1.7e6, 0.03, marks=pytest.mark.slow),
        ("resnet56_v2", 0.85e6, 0.03),
        pytest.param("wrn16_4", 2.7e6, 0.03, marks=pytest.mark.slow),  # Zagoruyko & Komodakis 2016, table 1
        pytest.param("wrn28_10", 36.5e6, 0.01, marks=pytest.mark.slow),
        ("nin", 0.966e6, 0.03),  # the CIFAR-10 NiN of Lin et al. 2014 (3 input channels)
        # speedrun_cpu: stem 3x3x16 + BN; per stage two 3x3 convs + BNs (32, 96, 128); 128*10+10.
        ("speedrun_cpu", 9 * 16 + 64 + 9 * (16 * 32 + 32 * 32 + 32 * 96 + 96 * 96 + 96 * 128
                                            + 128 * 128) + 4 * 2 * (32 + 96 + 128) + 1290, 0),
        # Maxout MLP: 784*240*5 + 240*240*5 weights, biases, 240*10 + 10 classifier.
        ("maxout_mlp", 784 * 1200 + 1200 + 240 * 1200 + 1200 + 2410, 0),
        ("lstm", 4 * (128 * (28 + 128) + 128) + 128 * 10 + 10, 0),
        ("bilstm", 2 * 4 * (128 * (28 + 128) + 128) + 256 * 10 + 10, 0),
    ],
)
def test_parameter_counts_match_published_sizes(name, expected, rtol):
    assert build_model(name).count_params() == pytest.approx(expected, rel=rtol)


def test_resnet_options_are_configs_not_copies():
    from keras_seminar.models.resnet import build_resnet

    v2 = build_model("resnet20", preact=True)
    assert v2.count_params() == build_model("resnet20_v2").count_params()
    deep = build_resnet(stackwise_num_blocks=[1, 1, 1], block_type="bottleneck", preact=True)
    assert deep.get_layer("stack3_block1_3_conv").filters == 4 * 64  # 4x expansion


@pytest.mark.parametrize(
    "name, options, match",
    [
        ("lenet5", {"pooling": "median"}, "pooling='median'"),
        ("lenet5", {"activation": "bogus"}, "bogus"),
        ("lenet5", {"dropout": 1.5}, "dropout=1.5"),
        ("lenet5", {"stackwise_num_filters": [6, 0]}, r"stackwise_num_filters=\[6, 0\]"),
        ("lenet5", {"augment": {"rotate": 0.1}}, "rotate"),
        ("resnet20", {"block_type": "dense"}, "block_type='dense'"),
        ("resnet20", {"stackwise_num_filters": [16, 32]}, r"stackwise_num_filters=\[16, 32\]"),
        ("resnet20", {"stackwise_strides": [1, 3, 2]}, r"stackwise_strides=\[1, 3, 2\]"),
        ("resnet20", {"activation": "tanh"}, "activation='tanh'"),
        ("resnet56_v2", {"preact": "yes"}, "preact='yes'"),
        ("wrn16_4", {"depth": 15}, "depth=15"),
        ("wrn16_4", {"width": 0}, r"width=\[0\]"),
        ("wrn28_10", {"dropout": -0.1}, "dropout=-0.1"),
        ("lstm", {"units": 0}, r"units=\[0\]"),
        ("lstm", {"num_layers": 2.5}, r"num_layers=\[2.5\]"),
        ("lstm", {"augment": {"translate": 0.1}}, "augment"),  # not a conv net
        ("bilstm", {"bidirectional": "yes"}, "bidirectional='yes'"),
        ("maxout_mlp", {"num_pieces": 1}, "num_pieces=1"),
        ("maxout_mlp", {"input_dropout": 1.0}, "input_dropout=1.0"),
        ("maxout_cnn", {"num_pieces": 1}, "num_pieces=1"),
        ("nin", {"stackwise_pooling": ["max", "median"]}, "median"),
        ("nin", {"stackwise_kernel_sizes": [5, 5]}, r"stackwise_kernel_sizes=\[5, 5\]"),
        ("nin", {"dropout": 1.0}, "dropout=1.0"),
    ],
)
def test_bad_options_raise_naming_the_value(name, options, match):
    with pytest.raises(ValueError, match=match):
        build_model(name, **options)


@pytest.mark.parametrize("name", ALL)
def test_recipes_are_usable(name):
    recipe = get_recipe(name)
    assert isinstance(recipe, registry.Recipe)
    augment = recipe.augment or {}
    if augment:  # training passes recipe.augment only to models that declare it
        assert "augment" in get_spec(name).options
    assert set(recipe.model_options or {}) <= get_spec(name).options


def test_recipe_flips_reach_fashion_mnist_never_digits():
    from keras_seminar import datasets
    from keras_seminar.training import TrainConfig, build_for

    assert get_recipe("resnet20").augment.get("flip")
    data = datasets.load("mnist", download=False)
    for dataset, flips in (("mnist", False), ("fashion_mnist", True)):
        model = build_for(TrainConfig(model="resnet20", dataset=dataset), data)
        assert model.get_layer("augment_shift").horizontal_flip == flips


def test_augmentation_is_identity_at_inference(rng):
    model = build_model("lenet5", augment={"translate": 0.2, "flip": True})
    assert {"augment_translate", "augment_flip"} <= {layer.name for layer in model.layers}
    x = _images(rng, 4)
    plain = build_model("lenet5")
    plain.set_weights(model.get_weights())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x, training=False)),
                               keras.ops.convert_to_numpy(plain(x, training=False)), rtol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lenet5", "lstm", "maxout_mlp"])
def test_small_models_learn_fashion_mnist(name, fashion_small):
    x, y, xt, yt = fashion_small
    keras.utils.set_random_seed(0)
    model = build_model(name)
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, batch_size=32, epochs=4, verbose=0)
    assert model.evaluate(xt, yt, verbose=0, return_dict=True)["accuracy"] > 0.6
