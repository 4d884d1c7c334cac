"""What the Docker image and compose file start, checked without a Docker engine (none runs here)."""
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_compose_is_hardened():
    svc = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["gradtrace"]
    assert svc["read_only"] is True and any(t.startswith("/tmp") for t in svc["tmpfs"])
    assert "no-new-privileges:true" in svc["security_opt"] and svc["cap_drop"] == ["ALL"]
    assert svc["mem_limit"] and svc["pids_limit"]
    db_dir = str(Path(svc["environment"]["GRADTRACE_SNIPPET_DB"]).parent)
    assert any(v.endswith(":" + db_dir) for v in svc["volumes"])  # the database lives on the volume
    assert svc["ports"] == ["8000:8000"]


def test_dockerfile_runs_unprivileged_with_healthcheck():
    text = (ROOT / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n?.*?/api/v1/health", text, re.M)
    assert "torch==2.13.0" in text
    cmd = json.loads(re.search(r"^CMD (.+)$", text, re.M).group(1))
    assert cmd[:2] == ["gradtrace", "serve"] and "0.0.0.0" in cmd


def test_server_starts_as_the_container_would(tmp_path):
    """`gradtrace serve` with the container's settings: healthy, serves the page, writes snippets to the volume;
    stopped (SIGTERM, as `docker stop` and a rolling update do) with a live class stream open, it ends the stream
    cleanly and exits, rather than holding shutdown_grace_s for a stream that never ends by itself."""
    port = _free_port()
    env = {**os.environ, "GRADTRACE_SNIPPET_DB": str(tmp_path / "data" / "snippets.sqlite3"),
           "GRADTRACE_FRONTEND_DIR": str(ROOT / "frontend"), "GRADTRACE_WORKERS": "1",
           # a grace longer than the wait below: only ending the stream lets the server exit in time
           "GRADTRACE_SHUTDOWN_GRACE_S": "600", "GRADTRACE_CLASS_HEARTBEAT_S": "2"}
    proc = subprocess.Popen([sys.executable, "-m", "gradtrace.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline, status = time.monotonic() + 60, None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(base + "/api/v1/health", timeout=2) as r:
                    status = r.status
                    break
            except OSError:
                time.sleep(0.3)
        assert status == 200, proc.stdout.read1().decode() if proc.poll() is not None else "no health in 60 s"
        req = urllib.request.Request(base + "/api/v1/snippets", data=json.dumps({"code": "x = 1"}).encode(),
                                     headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as r:
            assert r.status == 201
        assert (tmp_path / "data" / "snippets.sqlite3").exists()
        with urllib.request.urlopen(base + "/", timeout=5) as r:
            assert r.status == 200 and b"<html" in r.read().lower()
        req = urllib.request.Request(base + "/api/v1/classes", data=json.dumps({"program": {"code": "x = 1"}}).encode(),
                                     headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as r:
            events_url = json.load(r)["events_url"]
        stream = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        stream.request("GET", events_url)
        events = stream.getresponse()
        assert events.status == 200 and b"event: state" in events.read1(4096)
        proc.terminate()
        rest, deadline = b"", time.monotonic() + 60
        while chunk := events.read1(65536):  # b"" at the stream's clean end (the chunked terminator)
            rest += chunk
            assert time.monotonic() < deadline, "the class stream was still open 60 s after SIGTERM"
        assert b"event: end" not in rest  # not ended as a session: the browser reconnects, to another replica
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    log = proc.stdout.read().decode(errors="replace")
    if proc.returncode not in (0, -15):
        pytest.fail(f"server exited with {proc.returncode}\n{log[-2000:]}")
    assert "graceful shutdown exceeded" not in log and "Traceback" not in log, log[-2000:]


def test_compose_replicas_profile_puts_nginx_before_hardened_replicas_on_postgres_and_redis():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    profiled = {name for name, svc in services.items() if "replicas" in svc.get("profiles", [])}
    assert profiled == {"app", "nginx", "postgres", "redis"} and "profiles" not in services["gradtrace"]
    app = services["app"]
    assert app["read_only"] is True and app["cap_drop"] == ["ALL"] and "no-new-privileges:true" in app["security_opt"]
    assert app["deploy"]["replicas"] >= 2 and "ports" not in app  # only nginx is published
    env = app["environment"]
    assert env["GRADTRACE_DATABASE_URL"].startswith("postgresql://") and "@postgres:" in env["GRADTRACE_DATABASE_URL"]
    assert env["GRADTRACE_REDIS_URL"].startswith("redis://redis:") and env["GRADTRACE_TRUSTED_PROXIES"]
    conf = [v for v in services["nginx"]["volumes"] if v.startswith("./deploy/nginx/gradtrace.conf:")]
    assert conf and (ROOT / "deploy" / "nginx" / "gradtrace.conf").exists()
    assert "server app:8000" in (ROOT / "deploy" / "nginx" / "gradtrace.conf").read_text()  # the replicas' name


def test_image_installs_the_services_extra_and_setup_py():
    text = (ROOT / "Dockerfile").read_text()
    assert "setup.py" in text and '".[services]"' in text


def test_nginx_passes_class_event_streams_unbuffered_with_long_reads():
    conf = (ROOT / "deploy" / "nginx" / "gradtrace.conf").read_text()
    block = re.search(r'location ~ "\^/api/v1/classes/[^"]*/events\$" \{(.*?)\}', conf, re.S)
    assert block, "no location for the class event streams"
    body = block.group(1)
    assert "proxy_buffering off;" in body and "proxy_cache off;" in body
    read = re.search(r"proxy_read_timeout (\d+)(h|m|s);", body)
    assert read and int(read.group(1)) * {"h": 3600, "m": 60, "s": 1}[read.group(2)] >= 600
    app = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["app"]
    assert "GRADTRACE_REDIS_URL" in app["environment"]  # the replicas profile fans class events out through Redis
