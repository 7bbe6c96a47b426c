"""The only modules that know TensorFlow, JAX and PyTorch: one small module per job.

Library code elsewhere uses `keras.ops` only and asks this package what `keras.ops` cannot
express, or what differs between the backends:

- `dispatch`: which backend runs (`name`) and what its `fit` can do (`compiles_step_loops`,
  `supports_scan`);
- `devices`: what it computes on (`device_description`, `on_cpu`, `has_accelerator`) and
  `use_virtual_cpu_devices` for tests;
- `gradients`: `value_and_input_grad`, `value_and_variable_grads`, `compile_function`;
- `distribution`: `data_parallel_scope`;  `compile_cache`: `enable_compilation_cache`;
- `data_order`: `epoch_ordered_batches`, a new order every epoch on TensorFlow too;
- `scan`: `scanned_train_step`, a chunk of batches in one call on JAX;
- `choice` and `quiet`, run before Keras loads: which backend a process gets when its user
  chose none, and TensorFlow's start-up notices filtered.

Each framework is imported lazily, so keras_seminar never pulls in one the backend does not
use. This `__init__` imports nothing itself (the names below load their module on first use):
`keras_seminar/__init__` runs `choice` and `quiet` before Keras is imported, and `choice` must
set `KERAS_BACKEND` before it is.
"""

import importlib

_MODULE_OF = {
    "SUPPORTED": "dispatch", "name": "dispatch", "compiles_step_loops": "dispatch",
    "supports_scan": "dispatch",
    "device_description": "devices", "on_cpu": "devices", "has_accelerator": "devices",
    "use_virtual_cpu_devices": "devices",
    "value_and_input_grad": "gradients", "value_and_variable_grads": "gradients",
    "compile_function": "gradients",
    "data_parallel_scope": "distribution", "enable_compilation_cache": "compile_cache",
    "epoch_ordered_batches": "data_order", "scanned_train_step": "scan",
}

__all__ = sorted(_MODULE_OF)


def __getattr__(attr):  # PEP 562: `backend.name()` imports `backend.dispatch` on first use
    if attr not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
    return getattr(importlib.import_module(f"{__name__}.{_MODULE_OF[attr]}"), attr)
