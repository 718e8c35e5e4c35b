"""A Spark standalone cluster on this machine: one master and N workers, each its own
process (``spark-class ...Master`` / ``...Worker`` from pyspark's bundled scripts).

For the tests and the benchmark: a real cluster (separate JVMs, executors that talk to the
driver over the network) without a cluster manager. Every process runs in its own process
group, and leaving the ``with`` block kills the groups, also when the block raised.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from shiptrack.errors import InputError

HOST = "127.0.0.1"


def spark_home() -> Path:
    """The Spark distribution pyspark ships (its ``bin/spark-class`` and jars)."""
    import pyspark

    return Path(pyspark.__file__).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def cluster_env(work: Path) -> dict[str, str]:
    """The environment of the cluster's processes: loopback only, logs and scratch under ``work``,
    and this interpreter for the Python workers (it has shiptrack and its dependencies)."""
    env = dict(os.environ)
    env.update({
        "SPARK_HOME": str(spark_home()),
        "SPARK_LOCAL_IP": HOST,
        "SPARK_LOG_DIR": str(work / "logs"),
        "SPARK_WORKER_DIR": str(work / "worker"),
        "SPARK_LOCAL_DIRS": str(work / "scratch"),
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
    })
    return env


def _alive_workers(ui_port: int) -> int:
    with urllib.request.urlopen(f"http://{HOST}:{ui_port}/json/", timeout=2) as r:  # noqa: S310 - loopback
        state = json.load(r)
    return sum(1 for w in state.get("workers", []) if w.get("state") == "ALIVE")


@contextmanager
def standalone_cluster(workers: int = 2, cores: int = 1, memory: str = "1g",
                       timeout_s: float = 90.0) -> Iterator[str]:
    """Start a master and ``workers`` workers (``cores`` cores and ``memory`` each) on
    127.0.0.1, wait until every worker registered, yield the master URL, then stop them and
    remove their folder (a start that fails raises with the processes' logs)."""
    work = Path(tempfile.mkdtemp(prefix="shiptrack-spark-"))
    env = cluster_env(work)
    spark_class = str(spark_home() / "bin" / "spark-class")
    port, ui = free_port(), free_port()
    url = f"spark://{HOST}:{port}"
    procs: list[subprocess.Popen[bytes]] = []

    def start(args: list[str], log: str) -> None:
        with open(work / log, "wb") as out:
            procs.append(subprocess.Popen([spark_class, *args], env=env, stdout=out, stderr=subprocess.STDOUT,
                                          start_new_session=True))

    try:
        start(["org.apache.spark.deploy.master.Master", "--host", HOST, "--port", str(port),
               "--webui-port", str(ui)], "master.log")
        for k in range(workers):
            start(["org.apache.spark.deploy.worker.Worker", "--host", HOST, "--port", str(free_port()),
                   "--webui-port", str(free_port()), "--cores", str(cores), "--memory", memory,
                   "--work-dir", str(work / f"worker{k}"), url], f"worker{k}.log")
        deadline = time.monotonic() + timeout_s
        while True:
            with suppress(OSError, ValueError):
                if _alive_workers(ui) >= workers:
                    break
            dead = [p.args for p in procs if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                logs = "\n".join((work / f).read_text(errors="replace")[-2000:] for f in sorted(os.listdir(work))
                                 if f.endswith(".log"))
                raise InputError(f"the Spark standalone cluster did not start ({len(dead)} processes exited):\n{logs}")
            time.sleep(0.5)
        yield url
    finally:
        for p in procs:
            with suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        shutil.rmtree(work, ignore_errors=True)  # logs, worker folders, scratch
