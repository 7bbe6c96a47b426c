"""The shipped models (the release's `<name>_<dataset>.keras` + `.json`) and their test accuracy.

What `keras-seminar models` lists before anything is downloaded. Kept equal to the cards in
`saved_models/` by tests/test_pretrained.py, whose failure message prints the new dict.
"""

SHIPPED = {
    "cnn_fashion_mnist": 0.9262,
    "cnn_mnist": 0.9938,
    "fast_cnn_fashion_mnist": 0.9238,
    "lenet5_fashion_mnist": 0.9045,
    "lenet5_mnist": 0.9935,
    "lstm_fashion_mnist": 0.8971,
    "lstm_mnist": 0.9907,
    "maxout_cnn_fashion_mnist": 0.9086,
    "maxout_mlp_fashion_mnist": 0.8929,
    "maxout_mlp_mnist": 0.9927,
    "nin_fashion_mnist": 0.9351,
    "nin_mnist": 0.9972,
    "resnet20_fashion_mnist": 0.9443,
    "resnet20_mnist": 0.9966,
    "softmax_fashion_mnist": 0.8441,
    "softmax_mnist": 0.9263,
    "speedrun_cpu_fashion_mnist": 0.9439,
}
