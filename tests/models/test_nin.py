"""The zoo's NiN: its head is `keras_seminar.layers.apply_nin_head`, ending in "predictions"."""

import keras
import numpy as np

from keras_seminar.models import build_model

SMALL = {"stackwise_num_filters": ((4, 4), (4, 4)), "stackwise_kernel_sizes": (3, 3),
         "stackwise_pooling": ("max",)}


def test_head_layers_and_constraints():
    model = build_model("nin", num_classes=3, kernel_constraint="nonneg",
                        output_constraint="nonneg_max_norm", kernel_regularizer="l12", **SMALL)
    assert [layer.name for layer in model.layers][-3:] == ["head_conv", "head_gap", "predictions"]
    head = model.get_layer("head_conv")
    assert head.kernel.shape == (1, 1, 4, 3)
    assert type(head.kernel_constraint).__name__ == "NonNegMaxNorm"  # the output constraint
    assert type(head.kernel_regularizer).__name__ == "L12"
    block = model.get_layer("mlpconv2")
    assert isinstance(block.kernel_constraint, keras.constraints.NonNeg)


def test_logits_stay_float32_under_mixed_precision(rng):
    keras.mixed_precision.set_global_policy("mixed_float16")
    model = build_model("nin", classifier_activation=None, **SMALL)
    assert model.get_layer("predictions").get_config()["activation"] == "linear"
    assert model.output.dtype == "float32"
    x = rng.random((2, 28, 28, 1)).astype("float32")
    logits = keras.ops.convert_to_numpy(model(x, training=False))
    assert logits.dtype == np.float32 and np.all(np.isfinite(logits))
