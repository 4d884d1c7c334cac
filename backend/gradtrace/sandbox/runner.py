"""SandboxRunner: the server's Runner backed by a pool of warm parents, with a bounded queue.

Blocking work (waiting for a worker, talking to it, validating the JSON) happens on a private thread pool
sized workers + queue_size, so it never blocks the event loop and works from any loop (TestClient, uvicorn).
"""
import asyncio
import logging
import math
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from ..runner import Admission, ClientBusy, Saturated, current_client
from .options import Options
from .results import death_trace, error_trace
from .validate import invalid_result, validated
from .watchdog import idle_message
from .worker import Worker, WorkerDied

log = logging.getLogger("gradtrace.sandbox")


class Handoff:
    """Idle workers handed to waiting runs strictly first come, first served: a returned worker goes straight to
    the longest waiter (queue.Queue lets a newcomer barge in, and a waiter that loses sits at the back again)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._free: deque = deque()
        self._waiting: deque = deque()

    def put(self, item) -> None:
        with self._lock:
            if not self._waiting:
                self._free.append(item)
                return
            slot = self._waiting.popleft()
        slot[1] = item
        slot[0].set()

    def get(self):
        with self._lock:
            if self._free:  # nobody waits when something is free: this caller is first in line
                return self._free.popleft()
            slot = [threading.Event(), None]
            self._waiting.append(slot)
        slot[0].wait()
        return slot[1]

    def qsize(self) -> int:
        return len(self._free)


class SandboxRunner:
    def __init__(self, settings=None, **option_overrides):
        from ..config import get_settings

        self.settings = settings or get_settings()
        self.options = Options.from_settings(self.settings, **option_overrides)
        self.size, self.queue_size = max(1, self.settings.workers), max(0, self.settings.queue_size)
        self._idle = Handoff()
        self._workers: list[Worker] = []
        self._lock = threading.Lock()
        self._started = False
        self._closed = False
        self._inflight = 0
        self.per_client_limit = max(1, getattr(self.settings, "max_runs_per_client", 4))
        self._admission = Admission(self.per_client_limit, max(1, getattr(self.settings, "max_runs_per_seat", 2)),
                                    max(1, getattr(self.settings, "max_runs_per_address", 12)))
        self.parent_cpu_s = 0.0  # CPU the server spent on children's results (reading, validating), all runs
        self._restarts = 0
        self._avg_s = 0.1  # moving average of a run's duration, for Retry-After
        self._executor = ThreadPoolExecutor(self.size + self.queue_size, thread_name_prefix="sandbox")
        self.layers: dict = {}

    # --- lifecycle ---
    def start(self) -> None:
        """Start every warm parent (in parallel) and log which isolation layers are active. Idempotent."""
        with self._lock:
            if self._started:
                return
            self._started = True
        workers = [Worker(self.options, i) for i in range(self.size)]
        threads = [threading.Thread(target=self._start_one, args=(w,)) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self._workers = [w for w in workers if w.alive]
        if not self._workers:
            raise RuntimeError("no sandbox worker could start; see the log above")
        self.layers = self._workers[0].report
        for w in self._workers:
            self._idle.put(w)
        log.warning("sandbox: %d worker(s) ready; %s", len(self._workers), describe_layers(self.layers))

    def _start_one(self, worker: Worker) -> None:
        try:
            worker.start()
        except Exception:  # noqa: BLE001 - logged; the pool runs with the workers that did start
            log.exception("sandbox worker %d failed to start", worker.index)

    def close(self) -> None:
        self._closed = True
        for w in list(self._workers):
            w.kill()
        self._idle.put(None)  # each waiter passes it on to the next
        self._executor.shutdown(wait=False, cancel_futures=True)

    # --- runs ---
    async def run(self, code: str, seed: int = 0, client: str | None = None,
                  finite_difference: dict | None = None) -> dict:
        """The Trace of one run. `client` (default: the request's, see runner.current_client) may have its share
        of runs queued or running (runner.Admission): ClientBusy beyond, Saturated when the pool is full."""
        client = client if client is not None else current_client()
        with self._lock:
            if not self._admission.admit(client):
                raise ClientBusy(self._retry_after())
            if self._inflight >= self.size + self.queue_size:
                self._admission.release(client)
                raise Saturated(self._retry_after())
            self._inflight += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, self.run_sync, code, seed, finite_difference)
        finally:
            with self._lock:
                self._inflight -= 1
                self._admission.release(client)

    def run_sync(self, code: str, seed: int = 0, finite_difference: dict | None = None) -> dict:
        """Blocking run (also used by the CLI and tests): waits for a free worker, no admission control."""
        self.start()
        worker = self._take_worker()
        started = time.monotonic()
        try:
            info, payload = worker.run(code, seed, finite_difference)
        except WorkerDied as exc:
            log.error("sandbox worker %d died: %s; replacing it", worker.index, exc)
            self._replace(worker)
            worker = None
            return invalid_result("the sandbox worker running this program failed; please try again")
        finally:
            if worker is not None:
                self._idle.put(worker)
            self._avg_s = 0.8 * self._avg_s + 0.2 * (time.monotonic() - started)
        if payload is None:
            return self._explain(info)
        cpu = time.thread_time()
        result = validated(payload, info)
        info["validate_cpu_s"] = round(time.thread_time() - cpu, 4)
        with self._lock:
            self.parent_cpu_s += info["validate_cpu_s"] + info.get("parent_cpu_s", 0.0)
        return result

    def _explain(self, info: dict) -> dict:
        """The error trace of a run that returned no result, from why it was stopped or how it died."""
        if info.get("stopped") == "idle":
            return error_trace("timeout", "TimeoutError", idle_message(self.options.idle_limit_s))
        if info.get("stopped") == "oversized":
            return invalid_result("the program's sandboxed process announced a result larger than allowed")
        return death_trace(info.get("status", 0), info.get("cpu_s", 0.0), info.get("killed", False),
                           self.options.death_limits())

    def _take_worker(self) -> Worker:
        """The next idle, living worker; one that died while idle is replaced and never handed a program.

        Waiters are served first come, first served (Handoff): with a polling queue.get a long waiter went to the
        back each time, and a hammering client's fresh requests overtook a class's patient ones."""
        while True:
            worker = self._idle.get()
            if worker is None:  # close(): wake every waiter
                self._idle.put(None)
                raise RuntimeError("the sandbox runner is closed")
            if worker.alive:
                return worker
            log.error("sandbox worker %d died while idle; replacing it", worker.index)
            self._replace(worker)

    def _replace(self, dead: Worker) -> None:
        def restart():
            fresh = Worker(self.options, dead.index)
            while not self._closed:
                try:
                    fresh.start()
                    break
                except Exception:  # noqa: BLE001
                    log.exception("sandbox worker %d failed to restart; retrying", dead.index)
                    time.sleep(1.0)
            if self._closed:
                fresh.kill()
                return
            with self._lock:
                self._workers = [w for w in self._workers if w is not dead] + [fresh]
                self._restarts += 1
            self._idle.put(fresh)

        dead.kill()
        threading.Thread(target=restart, daemon=True, name="sandbox-restart").start()

    def _retry_after(self) -> float:
        waiting = self._inflight - self.size + 1
        return max(1.0, math.ceil(waiting / self.size * self._avg_s))

    # --- health ---
    def health(self) -> dict:
        alive = sum(1 for w in self._workers if w.alive)
        return {"runner": "sandbox", "ready": self._started and alive > 0, "workers": self.size, "alive": alive,
                "busy": self.size - self._idle.qsize(), "inflight": self._inflight, "queue_size": self.queue_size,
                "restarts": self._restarts, "parent_cpu_s": round(self.parent_cpu_s, 3), "layers": self.layers.get("layers", {}),
                "checks": self.layers.get("checks", {}), "language_guards": self.layers.get("language_guards")}


def describe_layers(report: dict) -> str:
    layers, errors = report.get("layers", {}), report.get("errors", {})
    on = [name for name, active in layers.items() if active]
    off = [f"{name} ({errors.get(name, 'off')})" for name, active in layers.items() if not active]
    text = "isolation layers active: " + (", ".join(on) or "none")
    if off:
        text += "; NOT active: " + ", ".join(off)
    guards = "on" if report.get("language_guards") else "OFF"
    return text + f"; language guards {guards}; self-checks: {report.get('checks', {})}"
