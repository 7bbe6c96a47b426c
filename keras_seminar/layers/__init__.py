"""keras_seminar building blocks; importing this module registers them for `.keras` loading."""

from keras_seminar.layers.drop_connect import DropConnectDense
from keras_seminar.layers.maxout import Maxout, MaxoutChannels
from keras_seminar.layers.mlpconv import MLPConv, apply_nin_head
from keras_seminar.layers.random_shift import RandomShift
from keras_seminar.layers.residual import (
    apply_basic_block,
    apply_bottleneck_block,
    apply_wide_block,
)
from keras_seminar.layers.stochastic_rounding import StochasticRounding

__all__ = [
    "DropConnectDense",
    "MLPConv",
    "Maxout",
    "MaxoutChannels",
    "RandomShift",
    "StochasticRounding",
    "apply_basic_block",
    "apply_bottleneck_block",
    "apply_nin_head",
    "apply_wide_block",
]
