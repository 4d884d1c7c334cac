"""Real services as plain processes on loopback in temp folders: PostgreSQL, Redis, nginx and gradtrace replicas."""
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{proc.args[0]} did not open port {port}")


def stop(proc: subprocess.Popen, sig=signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def missing() -> str | None:
    """What is not installed (make install-test installs them from Debian), or None."""
    if not pg_bin():
        return "postgresql"
    for name in ("redis-server", "nginx"):
        if not find(name):
            return name
    return None


def find(name: str) -> str | None:
    return shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.path.exists(p)), None)


def pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def scratch(prefix: str) -> Path:
    """A temp folder other users may traverse (pytest's own tmp is private to root)."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o755)
    return path


class Postgres:
    """initdb + postgres as an unprivileged user (root may not run them), trust auth on loopback only."""

    def __init__(self):
        self.dir, self.port = scratch("gt-pg-"), free_port()
        data = self.dir / "data"
        data.mkdir()
        as_user = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(data, user.pw_uid, user.pw_gid)
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            as_user = ["runuser", "-u", "postgres", "--"]
        bin_ = pg_bin()
        subprocess.run([*as_user, str(bin_ / "initdb"), "-D", str(data), "-A", "trust", "-U", "gradtrace",
                        "--no-sync", "-E", "UTF8"], check=True, capture_output=True, timeout=120)
        self.proc = subprocess.Popen(
            [*as_user, str(bin_ / "postgres"), "-D", str(data), "-p", str(self.port), "-k", str(self.dir),
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=100"],
            stdout=subprocess.DEVNULL, stderr=open(self.dir / "postgres.log", "wb"))
        wait_port(self.port, self.proc)
        self.url = f"postgresql://gradtrace@127.0.0.1:{self.port}/postgres"

    def close(self):
        # fast shutdown, sent to postgres itself: runuser does not pass SIGINT on (it waited 20 s, then was
        # killed and left postgres running until it noticed its data folder gone)
        try:
            pid = int((self.dir / "data" / "postmaster.pid").read_text().split()[0])
            os.kill(pid, signal.SIGINT)
        except (OSError, ValueError, IndexError):
            pass
        stop(self.proc, signal.SIGINT)
        shutil.rmtree(self.dir, ignore_errors=True)


class Redis:
    def __init__(self):
        self.dir, self.port = scratch("gt-redis-"), free_port()
        self.proc = subprocess.Popen([find("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no", "--dir", str(self.dir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.proc)
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def close(self):
        stop(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


class Replica:
    """`gradtrace serve` in its own process, as `make run` or a container starts it."""

    def __init__(self, env: dict, workdir: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"replica-{self.port}.log"
        self.proc = subprocess.Popen([sys.executable, "-m", "gradtrace.cli", "serve", "--port", str(self.port),
                                      "--log-level", "warning"], cwd=workdir, env=env,
                                     stdout=subprocess.DEVNULL, stderr=open(self.log, "wb"))
        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(self.base + "/api/v1/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"replica did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.3)

    def close(self, sig=signal.SIGTERM):
        stop(self.proc, sig)


def start_replicas(envs: list[dict], workdir: Path) -> list[Replica]:
    """One replica per env, started side by side (most of a replica's start is its warm parents importing torch,
    which the other's can overlap); if one fails, the others are stopped and its error raised."""
    with ThreadPoolExecutor(len(envs)) as pool:
        futures = [pool.submit(Replica, env, workdir) for env in envs]
    started = [f.result() for f in futures if f.exception() is None]
    failed = [f.exception() for f in futures if f.exception() is not None]
    if failed:
        for r in started:
            r.close()
        raise failed[0]
    return started


class Nginx:
    """deploy/nginx/gradtrace.conf as shipped, with the replicas as upstream servers and a loopback port."""

    def __init__(self, replicas: list[Replica]):
        self.dir, self.port = scratch("gt-nginx-"), free_port()
        for sub in ("logs", "tmp", "cache"):
            (self.dir / sub).mkdir()
            (self.dir / sub).chmod(0o777)
        conf = (ROOT / "deploy" / "nginx" / "gradtrace.conf").read_text()
        servers = "\n".join(f"    server 127.0.0.1:{r.port} max_fails=1 fail_timeout=5s;" for r in replicas)
        conf, n_up = re.subn(r"^\s*server app:8000[^\n]*;", servers, conf, flags=re.M)
        conf, n_listen = re.subn(r"listen 80;", f"listen 127.0.0.1:{self.port};", conf)
        assert n_up == 1 and n_listen == 1, "the shipped config changed shape: update this harness"
        (self.dir / "gradtrace.conf").write_text(conf)
        (self.dir / "nginx.conf").write_text(f"""
daemon off;
worker_processes 1;
pid {self.dir}/nginx.pid;
error_log {self.dir}/logs/error.log warn;
events {{ worker_connections 8192; }}  # as deploy/nginx/nginx.conf
http {{
    access_log off;
    client_body_temp_path {self.dir}/tmp/body;
    proxy_temp_path {self.dir}/tmp/proxy;
    fastcgi_temp_path {self.dir}/tmp/fastcgi;
    uwsgi_temp_path {self.dir}/tmp/uwsgi;
    scgi_temp_path {self.dir}/tmp/scgi;
    include {self.dir}/gradtrace.conf;
}}
""")
        self.proc = subprocess.Popen([find("nginx"), "-p", str(self.dir), "-c", str(self.dir / "nginx.conf")],
                                     stdout=subprocess.DEVNULL, stderr=open(self.dir / "logs" / "stderr.log", "wb"))
        wait_port(self.port, self.proc, timeout=20)
        self.base = f"http://127.0.0.1:{self.port}"

    def error_log(self) -> str:
        return (self.dir / "logs" / "error.log").read_text(errors="replace")

    def close(self):
        stop(self.proc, signal.SIGQUIT)
        shutil.rmtree(self.dir, ignore_errors=True)
