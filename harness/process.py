"""Runs a server (the bot as operators start it, or the benchmark's naive baseline) in a child process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
BOT_COMMAND = (sys.executable, "-m", "bot")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**overrides: str) -> dict[str, str]:
    """A minimal environment with an empty HOME: no settings leak in from the developer's shell or files.

    Run the child in that HOME (see `workdir`), not in ROOT, so a developer's `.env` in ROOT is not read either.
    """
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")}
    env.update({"HOME": tempfile.mkdtemp(prefix="numbers-home-"), "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1",
                "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"})
    env.update(overrides)
    return env


def workdir(env: dict[str, str]) -> str:
    """Where a child started with `env` runs: its empty HOME, which holds no `.env`."""
    return env["HOME"]


class BotProcess:
    """`argv` (by default `python -m bot`) run with `env`, its output in `log_path`; HTTP modes serve on `env["PORT"]`."""

    def __init__(self, env: dict[str, str], log_path: Path, argv: Sequence[str] = BOT_COMMAND) -> None:
        self.port = int(env["PORT"])
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(list(argv), cwd=workdir(env), env=env, stdout=self._log, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_until_ready(self, timeout: float = 30, path: str = "/healthz") -> BotProcess:
        """Wait until GET `path` gets an HTTP answer below 500 (bolt's development server answers 404).

        A process that exits or is not ready in time is stopped, and RuntimeError carries its log.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if requests.get(f"{self.url}{path}", timeout=1).status_code < 500:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        exited = self.process.poll()
        self.stop()
        problem = f"exited with {exited}" if exited is not None else f"not ready after {timeout} s"
        raise RuntimeError(f"{self.process.args} {problem}:\n{self.log_path.read_text(errors='replace')}")

    def workers(self) -> list[int]:
        """The process IDs serving requests: gunicorn's workers, or the process itself when it has no children."""
        children = [pid for pid in _all_pids() if _parent_of(pid) == self.pid]
        return sorted(children) or [self.pid]

    def log(self) -> str:
        """Everything the process has written so far (also after `stop`)."""
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, *texts: str, timeout: float = 30) -> str:
        """The first line of the log that contains every one of `texts`; AssertionError with the log if none comes in time."""
        deadline = time.monotonic() + timeout
        while True:
            exited = self.process.poll() is not None
            found = [line for line in self.log().splitlines() if all(text in line for text in texts)]
            if found:
                return found[0]
            if exited or time.monotonic() > deadline:
                raise AssertionError(f"no log line with {texts}:\n{self.log()[-3000:]}")
            time.sleep(0.1)

    def stop(self, timeout: float | None = 15) -> int:
        """SIGTERM, as a platform stops a process; SIGKILL after `timeout` s. The exit code (-9 when killed)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode


def peak_rss_mib(pid: int) -> float:
    """The most resident memory `pid` has used so far (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])
