"""The one place files are written: atomic writes with unique temp names, sha256, locks.

Every writer in the package goes through `atomic_write` so a kill at any instant leaves either
the old file or the new one, never a mix; temp files carry the writer's pid, so a later run can
tell a dead writer's leftovers (`clean_stale`) from a live writer's work in progress.
"""

import contextlib
import hashlib
import json
import os
import socket
import time
import uuid

from keras_seminar.errors import LockedError

TMP_TAG = ".ks-tmp-"  # every temp file name holds this, then "<pid>-<random>"


def sha256_file(path, chunk=1 << 20):
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def temp_path(path, suffix=""):
    """A unique temporary name beside `path` (same folder, so `os.replace` is atomic)."""
    folder, base = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".{base}{TMP_TAG}{os.getpid()}-{uuid.uuid4().hex[:8]}{suffix}")


def _publish(tmp, path):
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, path)


def atomic_write(path, write_fn, mode="wb"):
    """Calls `write_fn(file_object)` on a fresh temp file, fsyncs it, renames it over `path`.

    The temp file is removed if anything fails, the kill -9 case aside (`clean_stale` handles
    that). `write_fn` may also be `bytes` / `str`, written as they are.
    """
    if isinstance(write_fn, (bytes, str)):
        data = write_fn
        mode = "wb" if isinstance(data, bytes) else "w"
        write_fn = lambda f: f.write(data)  # noqa: E731
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = temp_path(path)
    try:
        with open(tmp, mode) as f:
            write_fn(f)
            f.flush()
            os.fsync(f.fileno())
        _publish(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def atomic_write_json(path, obj, indent=2):
    """`atomic_write` of `obj` as JSON text."""
    atomic_write(path, json.dumps(obj, indent=indent))


@contextlib.contextmanager
def atomic_path(path, suffix=""):
    """Yields a temp path for writers that need a file name (Keras `save`); renames on success."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = temp_path(path, suffix)
    try:
        yield tmp
        _publish(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _temp_owner(name):
    """The pid in a temp file name, or None when the name is not one of ours."""
    if TMP_TAG not in name:
        return None
    try:
        return int(name.split(TMP_TAG, 1)[1].split("-", 1)[0])
    except ValueError:
        return None


def clean_stale(folder, min_age_s=0.0):
    """Removes temp files in `folder` (not recursive) whose writing process is dead; returns them."""
    removed = []
    if not os.path.isdir(folder):
        return removed
    host_pid = os.getpid()
    for name in os.listdir(folder):
        pid = _temp_owner(name)
        if pid is None or pid == host_pid or _pid_alive(pid):
            continue
        path = os.path.join(folder, name)
        with contextlib.suppress(OSError):
            if time.time() - os.path.getmtime(path) >= min_age_s:
                os.remove(path)
                removed.append(path)
    return removed


class FileLock:
    """An exclusive lock on `target` (a run directory or an output file) across processes.

    The lock is `<target>.lock` created with O_EXCL, holding the owner's pid and host. A lock
    whose process is dead (same host) is taken over; a live one raises `LockedError` naming the
    owner. Use as a context manager; re-entrant within one process is not supported.

    Example:
        >>> with FileLock("runs/cnn_s0"):
        ...     train()
    """

    def __init__(self, target):
        self.path = os.path.abspath(str(target)).rstrip(os.sep) + ".lock"
        self._held = False

    def _owner(self):
        try:
            with open(self.path) as f:
                info = json.load(f)
            return int(info["pid"]), str(info.get("host", ""))
        except (OSError, ValueError, KeyError, TypeError):
            return None, None

    def acquire(self):
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        record = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "time": time.time()})
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                pid, host = self._owner()
                same_host = host in ("", socket.gethostname())
                if pid is not None and same_host and (pid == os.getpid() or _pid_alive(pid)):
                    raise LockedError(
                        f"{self.path[:-5]} is in use by process {pid}; wait for it to finish, or "
                        "use another run_name / output path.") from None
                if pid is not None and not same_host:
                    raise LockedError(
                        f"{self.path[:-5]} is locked by process {pid} on host {host}; if that run "
                        f"is gone, delete {self.path}.") from None
                with contextlib.suppress(OSError):  # a dead owner's (or unreadable) lock
                    os.remove(self.path)
                continue
            with os.fdopen(fd, "w") as f:
                f.write(record)
            self._held = True
            return self
        raise LockedError(f"Could not take the lock {self.path}; delete it if no run is using it.")

    def release(self):
        if self._held:
            self._held = False
            with contextlib.suppress(OSError):
                os.remove(self.path)

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
