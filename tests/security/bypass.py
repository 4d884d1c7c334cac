"""Language-guard bypasses of the kind issue 12 found (standard-library helpers that exec/eval strings with
the real builtins, format strings reaching module globals). Each works in plain Python; through the guarded
sandbox the OS layers contain it whatever the guards make of it (the guards are a convenience)."""
from .attacks import A

DUNDER = '"_" * 2'

BYPASS = [
    A("dataclasses_create_fn_popen", 'import dataclasses\n'
      'f = dataclasses._create_fn("f", (), ["return __import__(\'os\').popen(\'cat {canary}\').read()"])\nprint(f())',
      (), plain=True),
    A("dataclasses_create_fn_system", 'import dataclasses\n'
      'f = dataclasses._create_fn("f", (), ["return __import__(\'os\').system(\'touch {marker}\')"])\n'
      'assert f() == 0, "system() failed"', (), plain=True),
    A("dataclasses_create_fn_ctypes", 'import dataclasses\n'
      'f = dataclasses._create_fn("f", (), ["return __import__(\'ctypes\').CDLL(None).system(b\'touch {marker}\')"])\n'
      'assert f() == 0, "system() failed"', (), plain=True),
    A("forwardref_evaluate_read", 'import typing\n'
      'r = typing.ForwardRef("[open(\'{canary}\').read()]")\ntry:\n    print(r._evaluate(None, None, frozenset()))\n'
      'except Exception as e:\n    print(e)', (), plain=True),
    A("forwardref_evaluate_system", 'import typing\n'
      'r = typing.ForwardRef("__import__(\'os\').system(\'touch {marker}\')")\ntry:\n'
      '    r._evaluate(None, None, frozenset())\nexcept Exception as e:\n    print(e)', (), plain=True),
    A("get_type_hints_system", 'import typing\ndef f():\n    pass\n'
      'f.__annotations__ = {"x": "__import__(\'os\').system(\'touch {marker}\')"}\ntry:\n'
      '    typing.get_type_hints(f, globalns={})\nexcept Exception as e:\n    print(e)', (), plain=True),
    A("get_type_hints_socket", 'import typing\ndef f():\n    pass\n'
      'f.__annotations__ = {"x": "__import__(\'socket\').create_connection((\'127.0.0.1\', {port}), timeout=1)"}\n'
      'try:\n    typing.get_type_hints(f, globalns={})\nexcept Exception as e:\n    print(e)', (), plain=True),
    A("get_type_hints_unix_socket", 'import typing\ndef f():\n    pass\n'
      'f.__annotations__ = {"x": "__import__(\'socket\').socket(1).connect(\'{unix}\')"}\n'
      'try:\n    typing.get_type_hints(f, globalns={})\nexcept Exception as e:\n    print(e)', (), plain=True),
    A("format_globals_environ", 'import json\n'
      'spec = "{0." + ' + DUNDER + ' + "globals" + ' + DUNDER + ' + "[_default_decoder].__class__.__init__.'
      '" + ' + DUNDER + ' + "globals" + ' + DUNDER + ' + "}"\n'
      'print("environ" in spec.format(json.loads))\n'
      'print("{0." + ' + DUNDER + ' + "globals" + ' + DUNDER + ' + "[json].codecs.sys.modules[os].environ}")\n'
      'import torch\nprint(("{0." + ' + DUNDER + ' + "globals" + ' + DUNDER + ' + "[os].environ}").format(torch.load))',
      (), plain=True),
    A("warnings_getcategory_then_hints", 'import warnings, typing\n'
      'try:\n    warnings._getcategory("ctypes.c_int")\nexcept Exception as e:\n    print(e)\n'
      'def f():\n    pass\n'
      'f.__annotations__ = {"x": "__import__(\'ctypes\').CDLL(None).system(b\'touch {marker}\')"}\n'
      'try:\n    typing.get_type_hints(f, globalns={})\nexcept Exception as e:\n    print(e)', (), plain=True),
]
