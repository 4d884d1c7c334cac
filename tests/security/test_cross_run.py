"""No run sees another: run N plants a token, run N+1 (same worker, so forked from the same warm parent)
searches its frames, gc objects, shared mappings and every readable page for it. Each search is first shown
to find the token against the old design (tests/security/legacy.py), then to find nothing now; the raw scan
also finds a token it planted itself, so its silence means something.

The searching runs use the OS layers only (no language guards: the program controls its process) and may
read /proc/self/maps, which Landlock normally forbids, so the scan sees every mapping."""
import json

import pytest

from gradtrace.sandbox import SandboxRunner
from gradtrace.sandbox.options import default_read_paths

from . import leakage
from .conftest import security_settings

pytestmark = pytest.mark.security
NAMES = sorted(leakage.ATTACKS)


@pytest.fixture(scope="module")
def legacy():
    parent = leakage.LegacyParent()
    yield parent
    parent.close()


@pytest.fixture(scope="module")
def scanning_sandbox(world):
    runner = SandboxRunner(security_settings(workers=1, timeout_s=30.0, cpu_s=30, idle_limit_s=10.0,
                                             sandbox_warm_gallery=True),  # production's warm parent, scanned
                           language_guards=False, read_paths=default_read_paths() + ["/proc"])
    runner.start()
    yield runner
    runner.close()


@pytest.mark.parametrize("name", NAMES)
def test_attack_finds_the_previous_run_in_the_old_design(legacy, name):
    token, token_hash = leakage.new_token()
    assert token in legacy.run(leakage.plant(token))
    out = legacy.run(leakage.attack(name, token_hash))
    assert leakage.leaks(out) > 0, out


@pytest.mark.parametrize("name", NAMES)
def test_no_run_sees_the_previous_one(scanning_sandbox, name):
    token, token_hash = leakage.new_token()
    planted = scanning_sandbox.run_sync(leakage.plant(token))
    assert planted["status"] == "ok" and token in planted["stdout"]
    result = scanning_sandbox.run_sync(leakage.attack(name, token_hash))
    assert result["status"] == "ok", result["error"]
    assert leakage.leaks(result["stdout"]) == 0, result["stdout"]
    mine = leakage.self_hits(result["stdout"])
    assert mine is None or mine >= 1, "the scan could not even find a token of its own run"


def test_no_run_sees_any_of_many_earlier_runs(scanning_sandbox):
    """Ten runs planted one after another, then one whole-memory scan for every one of their tokens."""
    tokens = [leakage.new_token() for _ in range(10)]
    for token, _ in tokens:
        assert scanning_sandbox.run_sync(leakage.plant(token))["status"] == "ok"
    program = leakage.attack("heap_scan", tokens[0][1]) + f"""
HS = set({[h for _, h in tokens]!r})
total = 0
for lo, hi in mappings():
    tail = b""
    for data in pages(lo, hi):
        buf = tail + data
        i = buf.find(b"GTLEAK")
        while i != -1:
            total += hashlib.sha256(bytes(buf[i + 6:i + 30])).hexdigest() in HS
            i = buf.find(b"GTLEAK", i + 1)
        tail = buf[-40:]
print("TOTAL", total)
"""
    result = scanning_sandbox.run_sync(program)
    assert result["status"] == "ok", result["error"]
    assert leakage.leaks(result["stdout"]) == 0 and "TOTAL 0\n" in result["stdout"], result["stdout"]


@pytest.mark.skipif(not __import__("os").environ.get("GRADTRACE_OLD_TREE"),
                    reason="set GRADTRACE_OLD_TREE to a checkout's backend/ of the code before issue 12")
def test_attacks_find_the_previous_run_in_the_old_tree(tmp_path):
    """The same attacks against the real sandbox of an older checkout (its own warm parent), run in a
    throwaway venv whose path puts that tree first and borrows this venv's packages."""
    import os
    import subprocess
    import sys
    import sysconfig

    old = os.environ["GRADTRACE_OLD_TREE"]
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True)
    site = next((tmp_path / "venv" / "lib").glob("python3*/site-packages"))
    (site / "a_old_tree.pth").write_text(f"{old}\n{sysconfig.get_paths()['purelib']}\n")
    script = tmp_path / "demo.py"
    script.write_text(f"""import sys, json
sys.path.insert(0, {str(__import__('pathlib').Path(__file__).parent)!r})
import leakage as L
from gradtrace.config import Settings
from gradtrace.sandbox import SandboxRunner
from gradtrace.sandbox.options import default_read_paths
r = SandboxRunner(Settings(workers=1, timeout_s=30, cpu_s=30), language_guards=False,
                  read_paths=default_read_paths() + ["/proc"])
r.start()
found = {{}}
for name in sorted(L.ATTACKS):
    tok, h = L.new_token()
    r.run_sync(L.plant(tok))
    found[name] = L.leaks(r.run_sync(L.attack(name, h))["stdout"])
r.close()
print(json.dumps(found))
""")
    out = subprocess.run([str(tmp_path / "venv" / "bin" / "python"), str(script)], capture_output=True, text=True,
                         timeout=600, cwd=old)
    found = __import__("json").loads(out.stdout.strip().splitlines()[-1])
    assert all(count > 0 for count in found.values()), found


WALK_AND_PRINT = '''
try:
    1 / 0
except Exception as e:
    err = e
seen = set()
for n in range(200):
    spec = "{0." + "_" * 2 + "traceback" + "_" * 2 + ".tb_frame" + ".f_back" * n + ".f_locals}"
    try:
        text = spec.format(err)
    except Exception:
        break
    i = text.find("GTLEAK")
    while i != -1:
        seen.add(text[i:i + 30])
        i = text.find("GTLEAK", i + 1)
print(sorted(seen))
'''


def test_two_clients_over_http_never_see_each_other(sandbox):
    """The issue's scenario through the API and the guarded sandbox: while one student runs programs, another
    polls with a run-time format string walking every frame; none of the first student's programs shows up."""
    import concurrent.futures

    from fastapi.testclient import TestClient

    from gradtrace.api.app import create_app

    with TestClient(create_app(security_settings(), runner=sandbox)) as client:  # the lifespan makes the trace cache
        tokens = [leakage.new_token()[0] for _ in range(10)]

        def student_a():
            for token in tokens:
                assert token in client.post("/api/v1/traces", json={"code": leakage.plant(token)}).json()["stdout"]

        def student_b():
            return [client.post("/api/v1/traces", json={"code": WALK_AND_PRINT}).json() for _ in range(10)]

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            a, b = pool.submit(student_a), pool.submit(student_b)
            a.result()
            seen = b.result()
        walked = [r for r in seen if r["status"] == "ok"]
        assert walked, seen[0]["error"]  # the walk itself works (the guards do not stop it): it finds nothing
        text = json.dumps(seen)
        assert not [t for t in tokens if t in text]
