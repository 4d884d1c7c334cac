"""Compact trace version 2 (column tables, packed float32 values): it expands to exactly the full trace, in Python
and in the page's JavaScript, for every gallery example and every corpus program; and it is ≤ 200 bytes per op."""
import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gradtrace.examples import examples
from gradtrace.schema import CompactTraceV2, Trace
from gradtrace.tracer import Limits, trace
from gradtrace.tracer.packed import Short, f32, pack_values, unpack_values
from gradtrace.tracer.compact import compact, expand, to_format

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from chain_bench import program  # noqa: E402

CHECK = ROOT / "frontend" / "tests" / "tools" / "expand-check.mjs"
PROGRAMS = {f"example:{ex['id']}": ex["code"] for ex in examples()}
PROGRAMS.update({f"corpus:{p.stem}": p.read_text() for p in sorted((ROOT / "tests" / "corpus").glob("*.py"))})


def wire(t: dict) -> dict:
    """What a reader gets: the JSON as the API writes it, parsed."""
    return json.loads(json.dumps(t, ensure_ascii=False, allow_nan=False, separators=(",", ":")))


@pytest.fixture(scope="module")
def traced(traced_once):
    """name → (full trace, compact v2 as read from JSON), every program traced once per session (conftest.py)."""
    out = {}
    for name, code in PROGRAMS.items():
        full = traced_once(code)  # wire(trace(code, seed=0))
        out[name] = (full, wire(compact(copy.deepcopy(full))))
    return out


def test_every_program_round_trips_exactly_in_python(traced):
    assert len(traced) >= 60
    for name, (full, v2) in traced.items():
        assert v2["format"] == "compact" and v2["compact_version"] == 2, name
        CompactTraceV2.model_validate(v2)
        assert expand(copy.deepcopy(v2)) == full, name
        assert wire(expand(copy.deepcopy(v2))) == full, name  # also through JSON again (ints stay ints, floats floats)
        v1 = compact(copy.deepcopy(full), 1)
        assert "compact_version" not in v1 and expand(v1) == full, name


def test_json_text_is_the_same_after_a_round_trip(traced):
    """Stronger than ==: -0.0 against 0.0, 1 against 1.0 and True against 1 all survive."""
    for name, (full, v2) in traced.items():
        text = json.dumps(full, sort_keys=True)
        assert json.dumps(expand(copy.deepcopy(v2)), sort_keys=True) == text, name


@pytest.mark.skipif(shutil.which("node") is None, reason="node is needed to run the page's expandTrace")
def test_every_program_round_trips_exactly_in_the_page(traced):
    cases = [{"name": name, "full": full, "compact": v2} for name, (full, v2) in traced.items()]
    v1 = [{"name": f"{c['name']} (v1)", "full": c["full"], "compact": wire(compact(copy.deepcopy(c["full"]), 1))}
          for c in cases[:5]]
    out = subprocess.run(["node", str(CHECK)], input=json.dumps(cases + v1), capture_output=True, text=True,
                         cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout) == []


def test_a_compact_trace_is_smaller_and_still_describes_itself():
    code = PROGRAMS["example:mlp-training-step"]
    full = wire(trace(code))
    v2 = wire(trace(code, format="compact"))
    v1 = wire(trace(code, format="compact", compact_version=1))
    def size(t):
        return len(json.dumps(t, separators=(",", ":")))
    assert size(v2) < size(v1) < size(full)
    Trace.model_validate(v1)  # the sandbox's wire form stays a valid Trace
    assert to_format(copy.deepcopy(v1), "compact") == v2 and to_format(copy.deepcopy(v2), "full") == full
    assert to_format(v2, "compact") is v2


@pytest.mark.parametrize("unrolled", [False, True], ids=["loop", "unrolled"])
@pytest.mark.parametrize("n", [100, 1000])
def test_the_sin_add_chain_takes_at_most_200_bytes_per_op(n, unrolled):
    limits = Limits(max_steps=10**9, max_nodes=10**9, max_backward_steps=10**9, max_trace_bytes=10**9)
    t = trace(program(n, unrolled), limits=limits, format="compact")
    assert t["status"] == "ok" and len(t["nodes"]["c"]["kind"] if isinstance(t["nodes"]["c"]["kind"], list) else
                                       t["nodes"]["c"]["kind"]["rle"]) > 0
    size = len(json.dumps(t, separators=(",", ":")).encode())
    assert size / n <= 200, size / n
    assert expand(t) == trace(program(n, unrolled), limits=limits)


@pytest.mark.parametrize("x", [0.1, 1.3301773071289062, -0.0, 0.0, 3.0, 1e-45, 3.4028234663852886e38, 16777216.0,
                               1.1754943508222875e-38, 0.3333333432674408])
def test_a_float32_number_is_written_short_and_read_back_exactly(x):
    x = f32(x)
    short = Short()(x)
    assert len(repr(short)) <= 16 and f32(json.loads(json.dumps(short))) == x
    assert repr(f32(json.loads(json.dumps(short)))) == repr(x)  # the sign of zero too


def test_values_pack_only_what_reads_back_exactly():
    scalar = {"shape": [], "values": 0.5, "min": 0.5, "max": 0.5, "mean": 0.5, "sum": 0.5}
    assert pack_values(scalar, Short()) == 0.5
    f64 = {"shape": [], "values": 0.1, "min": 0.1, "max": 0.1, "mean": 0.1, "sum": 0.1}  # not a float32 number
    assert pack_values(f64, Short()) is f64
    big_int = {"shape": [1], "values": [2**40], "min": 2**40, "max": 2**40, "mean": None, "sum": 2**40}
    assert pack_values(big_int, Short()) is big_int  # a reader's float32 rounding would change it
    signed = {"shape": [], "values": -0.0, "min": -0.0, "max": -0.0, "mean": -0.0, "sum": 0.0}
    assert json.dumps(unpack_values(wire(pack_values(signed, Short())))) == json.dumps(signed)
    odd = {"shape": [2], "values": ["nan", f32(0.1)], "min": "nan", "max": "nan", "mean": "nan", "sum": "nan"}
    assert unpack_values(wire(pack_values(odd, Short()))) == odd


def _odd_traces() -> dict:
    """Valid-JSON traces that break each codec's assumption once: every one must still come back exactly."""
    base = wire(trace(PROGRAMS["example:register-hook"], seed=0))
    cases = {}

    def case(name, edit):
        t = copy.deepcopy(base)
        edit(t)
        cases[name] = t

    case("ids out of order", lambda t: t["tensors"].reverse())
    case("an id not of the form t<k>", lambda t: t["tensors"][0].update(id="x0"))
    case("leading-zero id", lambda t: t["forward"][1].update(inputs=["t01"]))
    case("a node ref that is not a node id", lambda t: t["tensors"][1].update(grad_fn="weird"))
    case("a missing key and an unknown key", lambda t: (t["tensors"][0].pop("line"), t["tensors"][1].update(extra={"a": [1, None]})))
    case("a float where ints are", lambda t: t["forward"][0].update(line=2.0))
    case("a bool where ints are", lambda t: t["forward"][0].update(line=True))
    case("a shape with a bool", lambda t: t["tensors"][0].update(shape=[True]))
    case("next with input_nr 1 and a null node", lambda t: t["nodes"][0].update(next=[[None, 0], ["n1", 1], [None, 3]]))
    case("steps with an unknown field", lambda t: t["backward"][0]["steps"][0].update(note="x"))
    case("a value_table-like float64 scalar", lambda t: t["tensors"][0].update(data={"shape": [], "values": 0.1, "min": 0.1, "max": 0.1, "mean": 0.1, "sum": 0.1}))
    case("an int Values past 2**24", lambda t: t["tensors"][0].update(data={"shape": [2], "values": [2**25 + 1, 1], "min": 1, "max": 2**25 + 1, "mean": None, "sum": 2**25 + 2}))
    case("a scalar whose sum differs in sign", lambda t: t["tensors"][0].update(data={"shape": [], "values": -0.0, "min": -0.0, "max": -0.0, "mean": -0.0, "sum": 0.0}))
    case("a Values with an extra key", lambda t: t["tensors"][0].update(data={"shape": [], "values": 1.0, "min": 1.0, "max": 1.0, "mean": 1.0, "sum": 1.0, "x": 1}))
    case("bools and ints alike in a raw column", lambda t: [s.update(grad_enabled=v) for s, v in zip(t["forward"], [True, 1, 1.0, False, 0])])
    case("empty tables", lambda t: t.update(tensors=[], nodes=[], forward=[], backward=[]))
    return cases


def test_odd_traces_round_trip_exactly_in_python_and_the_page():
    cases = _odd_traces()
    out = []
    for name, full in cases.items():
        v2 = wire(compact(copy.deepcopy(full)))
        assert json.dumps(expand(copy.deepcopy(v2)), sort_keys=True) == json.dumps(full, sort_keys=True), name
        out.append({"name": name, "full": full, "compact": v2})
    if shutil.which("node"):
        res = subprocess.run(["node", str(CHECK)], input=json.dumps(out), capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert res.returncode == 0, res.stderr[-2000:]
        assert json.loads(res.stdout) == []
