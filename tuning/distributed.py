"""Distributed search with KerasTuner's own engine: one chief oracle, N workers, over gRPC.

The chief holds the oracle (Bayesian, Hyperband or random) and answers the workers over gRPC;
each worker asks it for a trial, trains the model, reports the score, and asks again. Three
environment variables decide what a process is:

    KERASTUNER_TUNER_ID      "chief" for the oracle, "tuner0", "tuner1", ... for the workers
    KERASTUNER_ORACLE_IP     the chief's address (the chief binds to it)
    KERASTUNER_ORACLE_PORT   the chief's port

On one machine, `keras-seminar tune ... --workers N` does it all: this process becomes the
chief on 127.0.0.1 and a free port, starts N worker subprocesses (logs in
`<directory>/<project>/workers/tunerK.log`), waits for them and reports how many trials each
ran. On several machines, run the same command, with the same `--directory` on a shared file
system (workers write checkpoints and TensorBoard runs there; the chief reads the best
checkpoint at the end), once per process:

    # machine A, the chief (it trains nothing; it must be started first or soon after):
    KERASTUNER_TUNER_ID=chief KERASTUNER_ORACLE_IP=0.0.0.0 KERASTUNER_ORACLE_PORT=8000 \
        keras-seminar tune --model cnn --max-trials 50 --directory /shared/tuning
    # every worker, e.g. two per GPU machine:
    KERASTUNER_TUNER_ID=tuner0 KERASTUNER_ORACLE_IP=<address of A> KERASTUNER_ORACLE_PORT=8000 \
        keras-seminar tune --model cnn --max-trials 50 --directory /shared/tuning

Tuner ids must be unique. The chief exits when `max_trials` trials are done and every worker
has been told to stop; it then writes the JSON, CSV and best model. Killing everything and
re-running the same commands resumes: the chief reloads the oracle and hands out the trials that
were cut off again. Several workers can share one GPU: with JAX, each process pre-allocates 75%
of the GPU memory unless told otherwise, so set `XLA_PYTHON_CLIENT_MEM_FRACTION` (e.g. 0.3 for
three workers) or `XLA_PYTHON_CLIENT_PREALLOCATE=false`; with TensorFlow set
`TF_FORCE_GPU_ALLOW_GROWTH=true`. `--workers N` sets these defaults itself. On a CPU the
workers share the cores (each gets `cores / N` threads), so expect far less than N times the
trials per hour.
"""

import os
import socket
import subprocess
import sys
import time

from keras_seminar.errors import UsageError

__all__ = ["free_port", "listen", "role", "run_chief", "serve", "start_workers",
           "worker_environment"]


def role():
    """"local", "chief" or "worker", from the KERASTUNER_* environment variables."""
    if "KERASTUNER_ORACLE_IP" not in os.environ:
        return "local"
    missing = [v for v in ("KERASTUNER_ORACLE_PORT", "KERASTUNER_TUNER_ID") if v not in os.environ]
    if missing:
        raise ValueError(f"KERASTUNER_ORACLE_IP is set but {' and '.join(missing)} is not; set all three.")
    return "chief" if "chief" in os.environ["KERASTUNER_TUNER_ID"] else "worker"


def free_port(host="127.0.0.1"):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def worker_environment(index, workers, host, port):
    """The environment of local worker `index` of `workers`."""
    env = {**os.environ, "KERASTUNER_TUNER_ID": f"tuner{index}", "KERASTUNER_ORACLE_IP": host,
           "KERASTUNER_ORACLE_PORT": str(port), "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.setdefault("XLA_PYTHON_CLIENT_MEM_FRACTION", f"{min(0.75, 0.9 / workers):.2f}")
    env.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")
    threads = str(max(1, (os.cpu_count() or 1) // workers))
    for name in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
        env.setdefault(name, threads)
    return env


def start_workers(config, workers, host, port, log_dir):
    """Starts `workers` processes running `python -m keras_seminar.tuning.worker CONFIG_JSON` (`config` a
    `SearchConfig`) as workers of host:port."""
    os.makedirs(log_dir, exist_ok=True)
    procs = []
    for i in range(workers):
        log = open(os.path.join(log_dir, f"tuner{i}.log"), "ab")
        cmd = [sys.executable, "-m", "keras_seminar.tuning.worker", config.to_json()]
        procs.append((subprocess.Popen(cmd, env=worker_environment(i, workers, host, port),
                                       stdout=log, stderr=subprocess.STDOUT), log))
    return procs


def listen(oracle, host, port):
    """Starts KerasTuner's chief server for `oracle` on host:port; returns `(server, servicer)`.

    `UsageError` (one line) when the port cannot be had: in use by any process, another chief
    included (gRPC would otherwise share it through SO_REUSEPORT, splitting the workers between
    two unrelated searches), or not an address of this machine.
    """
    from concurrent import futures

    import grpc

    # KerasTuner's chief server has no public name (keras_tuner.src only); it is used as is.
    from keras_tuner.src import protos
    from keras_tuner.src.distribute.oracle_chief import OracleServicer

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1), options=[("grpc.so_reuseport", 0)])
    servicer = OracleServicer(oracle)
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    try:
        bound = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError:  # grpcio >= 1.57 raises where older versions returned 0
        bound = 0
    if not bound:
        server.stop(None)
        raise UsageError(f"The chief cannot listen on {host}:{port}: the port is in use (another "
                         "chief's?) or the address is not this machine's. Choose another "
                         "KERASTUNER_ORACLE_PORT, or stop the process that holds it.")
    server.start()
    return server, servicer


def serve(server, servicer, oracle, workers=(), poll=0.5):
    """Serves `oracle` (through `listen`'s server) until the search is over (KerasTuner's
    chief loop, polled every `poll` s instead of every 20 s) or, when local `workers` are
    given, until they have all exited."""
    from keras_tuner.src.distribute.oracle_chief import exit_chief

    try:
        while True:
            time.sleep(poll)
            if servicer.stop_triggered and exit_chief(oracle):
                return
            if workers and all(p.poll() is not None for p in workers):
                return
    finally:
        server.stop(grace=2)


def run_chief(tuner, config, workers, verbose=1):
    """Chief of a search: serves the oracle; with `workers` > 0 starts and awaits them too,
    each running `config` (the chief's `SearchConfig.for_worker()`)."""
    oracle = tuner.oracle
    oracle.verbose = 0  # the oracle prints one line per ended trial instead (`tuning.oracle`)
    tuner.save()
    if workers:
        host, port = "127.0.0.1", free_port()
        server, servicer = listen(oracle, host, port)  # before any worker starts
        log_dir = os.path.join(tuner.project_dir, "workers")
        procs = start_workers(config, workers, host, port, log_dir)
        if verbose:
            print(f"Chief on {host}:{port}, {workers} workers (logs in {log_dir})")
        try:
            serve(server, servicer, oracle, [p for p, _ in procs])
            codes = [p.wait(timeout=120) for p, _ in procs]
        finally:
            for p, log in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
                log.close()
    else:
        server, servicer = listen(oracle, os.environ["KERASTUNER_ORACLE_IP"], os.environ["KERASTUNER_ORACLE_PORT"])
        serve(server, servicer, oracle)
        codes = []
    owners = list(oracle.trial_owners.values())
    report = {"workers": [{"tuner_id": f"tuner{i}", "returncode": code,
                           "trials": owners.count(f"tuner{i}")} for i, code in enumerate(codes)]}
    if verbose and codes:
        print("Workers: " + ", ".join(f"{w['tuner_id']} ran {w['trials']} trials (exit {w['returncode']})"
                                      for w in report["workers"]))
    failed = [w for w in report["workers"] if w["returncode"] != 0]
    if failed:
        tail = _tail(os.path.join(tuner.project_dir, "workers", f"{failed[0]['tuner_id']}.log"))
        print(f"{len(failed)} worker(s) failed; the end of {failed[0]['tuner_id']}'s log:\n{tail}",
              file=sys.stderr)
    return report


def _tail(path, lines=20):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""

