"""A local weights server for the pretrained tests: shipped model files, good and tampered."""

import contextlib
import functools
import http.server
import os
import shutil
import threading

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED = os.path.join(REPO, "saved_models")
STEM = "softmax_fashion_mnist"  # the smallest shipped model (50 KB)


def weights_folder(root):
    """`root/good/` holds STEM's .keras and .json as shipped; `root/bad/` the same card beside
    a model with one byte changed."""
    for sub in ("good", "bad"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
        for ext in (".keras", ".json"):
            shutil.copy(os.path.join(SHIPPED, STEM + ext), os.path.join(root, sub, STEM + ext))
    with open(os.path.join(root, "bad", STEM + ".keras"), "r+b") as f:
        f.seek(-100, os.SEEK_END)
        byte = f.read(1)
        f.seek(-100, os.SEEK_END)
        f.write(bytes([byte[0] ^ 0xFF]))
    return root


@contextlib.contextmanager
def serve(folder):
    """Serves `folder` on 127.0.0.1 in a thread; yields the base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
