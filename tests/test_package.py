"""The built wheel, installed in a clean venv with no checkout beside it, serves the page, /embed, /docs and exports."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.package
PROGRAM = "import torch\nx = torch.tensor([1.0, 2.0], requires_grad=True)\ny = (x * x).sum()\ny.backward()\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=900, **kw)


def _get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.read().decode("utf-8", "replace")


def _provide_torch(venv: Path, env: dict) -> None:
    """torch==2.13.0 in the new venv as the machine provides it (like the Dockerfile's first layer): hard links to
    this interpreter's installed copy, its dist-info included, so pip sees it installed and resolves the rest of the
    wheel's dependencies itself; unpacking the 700 MB wheel again was most of this module's time."""
    import torch

    site = Path(torch.__file__).resolve().parents[1]
    target = Path(_run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                       env=env).stdout.strip())
    names = ["torch", "torchgen", "functorch", f"torch-{torch.__version__.split('+')[0]}.dist-info"]
    names += [p.name for p in site.glob("torch-*.dist-info") if p.name not in names]
    for name in names:
        if (site / name).exists():
            try:
                _run(["cp", "-al", str(site / name), str(target / name)])
            except subprocess.CalledProcessError:  # another filesystem: a plain copy
                shutil.copytree(site / name, target / name)
    listed = _run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format=json"], env=env).stdout
    assert {"name": "torch", "version": torch.__version__} in json.loads(listed), listed


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A venv made from the base interpreter, the wheel built from a copy of only what the package needs."""
    tmp = tmp_path_factory.mktemp("pkg")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "backend", src / "backend", ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("templates", "static"):
        shutil.copytree(ROOT / "frontend" / part, src / "frontend" / part)
    base = getattr(sys, "_base_executable", sys.executable)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    _run([base, "-m", "venv", str(tmp / "venv")], env=env)
    pip = [str(tmp / "venv" / "bin" / "python"), "-m", "pip", "install", "-q"]
    _provide_torch(tmp / "venv", env)
    _run([str(tmp / "venv" / "bin" / "python"), "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp / "dist"), str(src)],
         env=env, cwd=tmp)
    wheel = next((tmp / "dist").glob("gradtrace-*.whl"))
    _run([*pip, str(wheel)], env=env)
    shutil.rmtree(src)  # nothing of a checkout is left to lean on
    work = tmp / "elsewhere"
    work.mkdir()
    return tmp / "venv" / "bin", work, {**env, "GRADTRACE_SNIPPET_DB": str(work / "s.sqlite3")}


def test_installed_package_lives_in_the_venv(installed):
    bin_, work, env = installed
    where = _run([str(bin_ / "python"), "-c", "import gradtrace.config as c; print(c.__file__); "
                  "print(c.Settings().frontend_dir)"], cwd=work, env=env).stdout.split()
    assert all(str(bin_.parent) in w for w in where) and not any(str(ROOT) in w for w in where), where


def test_installed_server_serves_page_embed_docs_and_their_assets(installed):
    bin_, work, env = installed
    port = _free_port()
    server = subprocess.Popen([str(bin_ / "gradtrace"), "serve", "--port", str(port), "--log-level", "warning"],
                              cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                if _get(base + "/api/v1/health")[0] == 200:
                    break
            except OSError as exc:
                if time.time() > deadline or server.poll() is not None:
                    raise AssertionError(server.stderr.read().decode() if server.poll() is not None else "no health") from exc
                time.sleep(0.3)
        for path in ("/", "/embed", "/docs"):
            status, html = _get(base + path)
            assert status == 200, path
            assets = set(re.findall(r'(?:src|href)="(/static/[^"?#]+)', html))
            assert assets, path
            for asset in assets:
                assert _get(base + asset)[0] == 200, asset
        # The page's modules import each other: follow every relative import of the entry scripts once.
        for entry in ("/static/js/main.js", "/static/js/embed.js"):
            _, js = _get(base + entry)
            for rel in re.findall(r'from "(\./[^"]+)"', js):
                assert _get(base + "/static/js/" + rel[2:])[0] == 200, rel
        req = urllib.request.Request(base + "/api/v1/traces", data=json.dumps({"code": PROGRAM}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            assert json.loads(r.read())["status"] == "ok"
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_installed_export_and_show_work(installed):
    bin_, work, env = installed
    (work / "prog.py").write_text(PROGRAM)
    _run([str(bin_ / "gradtrace"), "export", "prog.py", "-o", "prog.html"], cwd=work, env=env)
    html = (work / "prog.html").read_text()
    assert "<script" in html and len(html) > 100_000 and '"backward"' in html
    out = _run([str(bin_ / "python"), "-c", "import gradtrace, sys; a = gradtrace.show(sys.stdin.read()); "
                "print(a.trace['status'], 'srcdoc=' in a._repr_html_())"], cwd=work, env=env, input=PROGRAM).stdout
    assert out.split() == ["ok", "True"]
