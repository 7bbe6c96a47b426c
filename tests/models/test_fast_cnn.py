"""fast_cnn, the default model: its shape, its options and that it is what `train` builds."""

import keras
import pytest

from keras_seminar.models import build_model, get_recipe
from keras_seminar.models.fast_cnn import build_fast_cnn


def test_stages_pool_before_normalizing_and_sizes_are_as_documented():
    model = build_model("fast_cnn")
    names = [layer.name for layer in model.layers]
    # conv -> pool -> BN -> act in every stage: the normalized maps are the pooled ones
    for stage in (1, 2, 3):
        i = names.index(f"stage{stage}_conv")
        assert names[i:i + 4] == [f"stage{stage}_conv", f"stage{stage}_pool", f"stage{stage}_bn",
                                  f"stage{stage}_act"]
    assert tuple(model.get_layer("flatten").output.shape) == (None, 3 * 3 * 64)
    assert model.get_layer("fc1").units == 128
    # 16*9 + 32*16*9 + 64*32*9 conv kernels, 2*(16+32+64)*2 BN, 576*128+128, 128*10+10
    assert model.count_params() == 98_778


def test_options_reach_the_model():
    model = build_fast_cnn(stackwise_num_filters=[8, 8], dense_units=0, dropout=0.2,
                           kernel_constraint="nonneg", output_constraint=None,
                           kernel_regularizer="l12")
    names = [layer.name for layer in model.layers]
    assert "fc1" not in names and "dropout" in names and "stage3_conv" not in names
    conv = model.get_layer("stage1_conv")
    assert conv.kernel_constraint is not None and conv.kernel_regularizer is not None
    assert tuple(model.get_layer("flatten").output.shape) == (None, 7 * 7 * 8)


@pytest.mark.parametrize("bad, named", [({"dense_units": -1}, "dense_units=-1"),
                                        ({"dense_units": True}, "dense_units=True"),
                                        ({"stackwise_num_filters": [16, 0]}, "stackwise_num_filters"),
                                        ({"dropout": 1.0}, "dropout=1.0"),
                                        ({"activation": "nope"}, "nope")])
def test_bad_options_name_the_value(bad, named):
    with pytest.raises(ValueError, match=named.replace("[", r"\[")):
        build_fast_cnn(**bad)


def test_is_the_default_of_the_cli_and_the_api():
    from keras_seminar import cli
    from keras_seminar.training import TrainConfig

    args = cli.build_parser().parse_args(["train"])
    assert args.model == "fast_cnn" and TrainConfig().model == "fast_cnn"
    recipe = get_recipe("fast_cnn")
    assert (recipe.epochs, recipe.batch_size, recipe.schedule) == (10, 256, "onecycle")
    assert isinstance(build_model("fast_cnn").layers[-1], keras.layers.Activation)
