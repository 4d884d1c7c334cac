"""No run sees another: run N plants a token, run N+1 (same worker, so forked from the same warm parent)
searches its frames, gc objects, shared mappings and every readable page for it. Each search is first shown
to find the token against the old design (tests/security/legacy.py), then to find nothing now; the raw scan
also finds a token it planted itself, so its silence means something.

The searching runs use the OS layers only (no language guards: the program controls its process) and may
read /proc/self/maps, which Landlock normally forbids, so the scan sees every mapping."""
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
    runner = SandboxRunner(security_settings(workers=1, timeout_s=30.0, cpu_s=30, idle_limit_s=10.0),
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
