"""The pure standard-library modules a program may import (policy.PURE_STDLIB, issue 16 item 8): each one imported
and used inside the real sandbox, its output held against plain Python; and none of them hands a program `os`,
`sys`, builtins or file I/O through an attribute the guards let through."""
import importlib
import types

import pytest

from gradtrace.sandbox.guards import ast_check, policy
from gradtrace.tracer.compact import to_format
from oracle import compare, run_plain

# One use per module, printing something that depends on the module really working.
USES = {
    "math": "import math\nprint(math.sqrt(2.0), math.factorial(6))",
    "cmath": "import cmath\nprint(cmath.exp(1j * cmath.pi).real)",
    "random": "import random\nrandom.seed(3)\nprint(random.random(), random.choice('abc'))",
    "functools": "import functools\nprint(functools.reduce(lambda a, b: a * b, [1, 2, 3, 4]))",
    "itertools": "import itertools\nprint(list(itertools.combinations('abc', 2)))",
    "collections": "import collections\nprint(collections.Counter('hello').most_common(2))",
    "collections.abc": "import collections.abc\nprint(isinstance([], collections.abc.Sequence))",
    "operator": "import operator\nprint(operator.mul(6, 7), operator.itemgetter(1)([5, 9]))",
    "statistics": "import statistics\nprint(statistics.mean([1, 2, 4]), statistics.stdev([1.0, 2.0, 4.0]))",
    "typing": "from typing import List, NamedTuple\nclass P(NamedTuple):\n    x: int\n    y: List[int]\n"
              "print(P(1, [2]))",
    "typing_extensions": "from typing_extensions import Literal\nprint(Literal['a'])",
    "dataclasses": "from dataclasses import dataclass, field, asdict\n@dataclass\nclass Config:\n"
                   "    n_layer: int = 2\n    names: list = field(default_factory=list)\nprint(asdict(Config(3)))",
    "enum": "import enum\nclass Color(enum.Enum):\n    RED = 1\n    BLUE = 2\nprint(Color(2), list(Color))",
    "abc": "import abc\nclass Base(abc.ABC):\n    @abc.abstractmethod\n    def f(self): ...\n"
           "try:\n    Base()\nexcept TypeError as e:\n    print('abstract', type(e).__name__)",
    "numbers": "import numbers\nprint(isinstance(3, numbers.Integral))",
    "fractions": "from fractions import Fraction\nprint(Fraction(3, 4) + Fraction(1, 6))",
    "decimal": "from decimal import Decimal, getcontext\ngetcontext().prec = 6\nprint(Decimal(1) / Decimal(7))",
    "heapq": "import heapq\nh = [5, 1, 4]\nheapq.heapify(h)\nprint(heapq.heappop(h), heapq.nsmallest(2, [9, 3, 7]))",
    "bisect": "import bisect\nprint(bisect.bisect_left([1, 3, 5], 4))",
    "copy": "import copy\na = [[1], [2]]\nb = copy.deepcopy(a)\nb[0].append(9)\nprint(a, b)",
    "time": "import time\nt0 = time.perf_counter()\nprint(time.perf_counter() >= t0, time.time() > 1e9)",
    "json": "import json\nprint(json.dumps({'a': [1, 2]}), json.loads('[3]'))",
    "re": "import re\nprint(re.findall(r'\\d+', 'a1b22c333'))",
    "textwrap": "import textwrap\nprint(textwrap.wrap('the quick brown fox', 10))",
    "pprint": "import pprint\nprint(pprint.pformat({'b': 1, 'a': 2}))",
    "contextlib": "import contextlib\nwith contextlib.suppress(ZeroDivisionError):\n    1 / 0\nprint('suppressed')",
    "warnings": "import warnings\nwith warnings.catch_warnings():\n    warnings.simplefilter('ignore')\n"
                "    warnings.warn('x')\nprint('ok')",
    "string": "import string\nall_letters = string.ascii_letters + \" .,;'\"\nprint(len(all_letters), "
              "string.Template('$x!').substitute(x='hi'), string.capwords('ab cd'))",
    "unicodedata": "import unicodedata\nprint(''.join(c for c in unicodedata.normalize('NFD', 'Ślusàrski') "
                   "if unicodedata.category(c) != 'Mn'))",
    "array": "import array\na = array.array('d', [1.0, 2.5])\nprint(a.tolist(), a.itemsize)",
    "datetime": "import datetime\nprint(datetime.date(2024, 3, 1) - datetime.timedelta(days=1))",
    "colorsys": "import colorsys\nprint(colorsys.rgb_to_hsv(0.2, 0.4, 0.4))",
    "struct": "import struct\nprint(struct.unpack('<f', struct.pack('<f', 1.5)))",
    "keyword": "import keyword\nprint(keyword.iskeyword('for'), keyword.iskeyword('x'))",
    "graphlib": "import graphlib\nprint(list(graphlib.TopologicalSorter({'b': {'a'}, 'c': {'b'}}).static_order()))",
}


def test_every_allowed_pure_module_has_a_use_here():
    assert set(USES) == set(policy.PURE_STDLIB)


@pytest.mark.parametrize("name", sorted(policy.PURE_STDLIB))
def test_module_is_allowed_by_the_policy_and_static_check(name):
    assert policy.module_reason(name) is None
    ast_check.check(USES[name])


# Internals: any module object reachable as a plain attribute of an allowed module must itself be harmless.
HARMLESS = set(policy.PURE_STDLIB) | {"_collections_abc", "_functools", "_operator", "_heapq", "_bisect", "_random",
                                      "_string", "_struct", "_json", "_datetime", "_pydecimal", "_decimal", "_sre",
                                      "_weakrefset", "_abc", "sre_compile", "sre_parse", "sre_constants"}


@pytest.mark.parametrize("name", sorted(policy.PURE_STDLIB))
def test_module_exposes_no_os_sys_or_io_through_unguarded_attributes(name):
    module = importlib.import_module(name)
    leaks = [f"{name}.{attr} is {value.__name__}" for attr, value in vars(module).items()
             if isinstance(value, types.ModuleType) and not attr.startswith("__")
             and policy.attr_reason(attr) is None and value.__name__.split(".")[0] not in HARMLESS]
    assert not leaks


def test_string_formatter_cannot_reach_attributes():
    for code in ("import string\nstring.Formatter().get_field('0.real', (1,), {})\n",
                 "import string\nstring.Formatter().vformat('{0}', (1,), {})\n"):
        with pytest.raises(ast_check.Refusal, match="format strings"):
            ast_check.check(code)


@pytest.fixture(scope="module")
def sandbox(default_pool):
    """The session's pool with default settings (tests/conftest.py)."""
    return default_pool


@pytest.mark.parametrize("name", sorted(USES))
def test_module_is_imported_and_used_in_the_sandbox(sandbox, name):
    code = USES[name] + "\n"
    trace = to_format(sandbox.run_sync(code), "full")
    assert trace["status"] == "ok", trace["error"]
    if name != "time":  # clocks differ between runs; the program prints True True in both
        problems = compare(trace, run_plain(code, seed=0))
        assert not problems, "\n".join(problems)
    assert trace["stdout"].strip()
    if name == "time":
        assert trace["stdout"] == "True True\n"
