"""The built wheel, installed outside the checkout into a fresh JAX-only venv, as a pip user has it.

The venv is made from `.venv-jax`'s interpreter and sees `.venv-jax`'s third-party packages
through a `.pth` file (a folder of links that leaves out the editable keras_seminar), so nothing
is downloaded; the wheel itself is installed into the venv with `pip install --no-deps`. Runs
once, in the TensorFlow pass (`.venv` has setuptools and wheel to build with; `.venv-jax`, the
JAX-only environment, must exist). About 30 s on the 2-core CI machine.
"""

import json
import os
import shutil
import subprocess
import sys
import zipfile

import keras
import pytest

from tests._weights_server import REPO, STEM, serve, weights_folder

JAX_PYTHON = os.path.join(REPO, ".venv-jax", "bin", "python")
SOURCES = ("setup.cfg", "pyproject.toml", "README.md", "LICENSE", "keras_seminar", "tuning",
           "experiments")

pytestmark = [
    pytest.mark.subprocess,
    pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                       reason="runs once, in the TensorFlow pass (.venv builds the wheel)"),
    pytest.mark.skipif(not os.path.exists(JAX_PYTHON), reason="needs .venv-jax (.ci/setup.sh)"),
]

# Run by the venv's interpreter (-I: no checkout on sys.path, no PYTHON* variables).
CHECK = r"""
import importlib.metadata as md, json, os, re, sys
import keras_seminar, keras_seminar.experiments, keras_seminar.tuning  # picks JAX: no KERAS_BACKEND
import keras
from keras_seminar.models import pretrained
from keras_seminar.saving import ModelFileError

def missing(requirement):
    try:
        md.version(re.match(r"[A-Za-z0-9._-]+", requirement).group())
    except md.PackageNotFoundError:
        return True

commands = {e.name: e.load().__module__ for e in md.entry_points(group="keras_seminar.commands")}
cache = os.path.join(os.environ["KERAS_HOME"], "keras_seminar")
os.environ["KERAS_SEMINAR_WEIGHTS_URL"] = sys.argv[1] + "/bad"
try:
    pretrained("softmax", "fashion_mnist")
    refused = None
except ModelFileError as e:
    refused = str(e)
cached_after_refusal = os.listdir(cache)
os.environ["KERAS_SEMINAR_WEIGHTS_URL"] = sys.argv[1] + "/good"
model = pretrained("softmax", "fashion_mnist")
print(json.dumps({
    "files": [m.__file__ for m in (keras_seminar, keras_seminar.tuning, keras_seminar.experiments)],
    "commands": commands, "backend": keras.backend.backend(),
    "tensorflow": any(d.metadata["Name"] in ("tensorflow", "tensorflow-cpu") for d in md.distributions()),
    "missing": [r for r in md.requires("keras-seminar") if "extra ==" not in r and missing(r)],
    "refused": refused, "cached_after_refusal": cached_after_refusal,
    "compiled": model.compiled, "output_shape": list(model.output_shape),
    "cached": sorted(os.listdir(cache))}))
"""


def _build_wheel(tmp):
    """The wheel of a copy of the sources (the build writes build/ and *.egg-info beside them)."""
    src = tmp / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCES:
        path = os.path.join(REPO, name)
        if os.path.isdir(path):
            shutil.copytree(path, src / name, ignore=ignore)
        else:
            shutil.copy(path, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--disable-pip-version-check", "-q", "-w", str(tmp / "dist"), str(src)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = (tmp / "dist").glob("keras_seminar-*.whl")
    return wheel


def _jax_venv(tmp):
    """A fresh venv on `.venv-jax`'s interpreter seeing its packages, minus keras_seminar."""
    venv, shadow = tmp / "venv", tmp / "jax-site-packages"
    subprocess.run([JAX_PYTHON, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    site = subprocess.run([JAX_PYTHON, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          check=True, capture_output=True, text=True).stdout.strip()
    shadow.mkdir()
    for name in os.listdir(site):
        if "keras_seminar" not in name and not name.endswith(".pth"):
            (shadow / name).symlink_to(os.path.join(site, name))
    (purelib,) = (venv / "lib").glob("python3*/site-packages")
    (purelib / "jax_env.pth").write_text(str(shadow) + "\n")
    return venv, purelib


def test_wheel_installs_alone_in_a_jax_only_venv_and_loads_pretrained(tmp_path):
    wheel = _build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        (top_level,) = [n for n in names if n.endswith(".dist-info/top_level.txt")]
        assert z.read(top_level).decode().split() == ["keras_seminar"]
        tops = {n.split("/")[0] for n in names}
        assert {t for t in tops if not t.endswith(".dist-info")} == {"keras_seminar"}, tops
        assert any(n.endswith(".dist-info/LICENSE") or "/licenses/LICENSE" in n for n in names)
        assert "keras_seminar/tuning/cli.py" in names and "keras_seminar/experiments/cli.py" in names
        packages = [os.path.relpath(folder, REPO) for folder, _, files
                    in os.walk(os.path.join(REPO, "keras_seminar")) if "__init__.py" in files]
        missing = [p for p in packages if f"{p}/__init__.py" not in names]
        assert missing == [], f"not in the wheel (add them to setup.cfg's packages): {missing}"

    venv, purelib = _jax_venv(tmp_path)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-deps", "--no-index",
                    "--disable-pip-version-check", "-q", str(wheel)],
                   check=True, capture_output=True, timeout=120)
    assert (venv / "bin" / "keras-seminar").exists()

    home = tmp_path / "keras_home"
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "KERAS_HOME": str(home),
           "TF_CPP_MIN_LOG_LEVEL": "2", "JAX_PLATFORMS": "cpu"}
    (home / "keras_seminar").mkdir(parents=True)
    with serve(weights_folder(tmp_path / "weights")) as url:
        proc = subprocess.run([str(venv / "bin" / "python"), "-I", "-c", CHECK, url],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert all(f.startswith(str(purelib / "keras_seminar")) for f in out["files"]), out["files"]
    assert out["commands"] == {"experiment": "keras_seminar.experiments.cli",
                               "tune": "keras_seminar.tuning.cli"}
    assert out["backend"] == "jax" and not out["tensorflow"] and out["missing"] == []
    assert out["refused"].startswith("Refused the download, nothing was cached: ")
    assert "has sha256" in out["refused"]
    assert "\n" not in out["refused"]
    assert out["cached_after_refusal"] == []
    assert out["compiled"] and out["output_shape"] == [None, 10]
    assert out["cached"] == [STEM + ".json", STEM + ".keras"]
