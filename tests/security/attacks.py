"""The attack programs. Placeholders ({canary}, {marker}, {port}, {unix}, {pickle}, {env}, {markers}) are
filled per test by World.fill. Each attack, if it worked, would leak the canary or the server's environment
secret into the trace, create its marker file, or connect to the test's listener.

ATTACKS run against the full sandbox. RAW attacks use the plain, unguarded route (real builtins, `import os`)
and run against the OS layers alone (language guards off) and, where safe, under plain exec to show they
really work there.
"""
from dataclasses import dataclass

ANY_ERROR = ("refused", "runtime", "timeout", "memory", "limit")


@dataclass(frozen=True)
class Attack:
    name: str
    code: str
    kinds: tuple = ("refused",)  # acceptable error kinds; () means the program may finish "ok"
    plain: bool = False  # safe to run under plain exec to prove it works there

    def __str__(self):
        return self.name


def A(name, code, kinds=("refused",), plain=False):
    return Attack(name, code.strip() + "\n", tuple(kinds), plain)


ATTACKS = [
    # --- read a secret file ---
    A("open_builtin", 'print(open("{canary}").read())'),
    A("os_read", 'import os\nprint(os.read(os.open("{canary}", os.O_RDONLY), 100))'),
    A("torch_os_popen", 'import torch\nprint(torch.os.popen("cat {canary}").read())'),
    A("io_open", 'import io\nprint(io.open("{canary}").read())'),
    A("pathlib_read", 'import pathlib\nprint(pathlib.Path("{canary}").read_text())'),
    A("numpy_fromfile", 'import numpy as np\nprint(np.fromfile("{canary}", dtype=np.uint8).tobytes())'),
    A("numpy_loadtxt", 'import numpy as np\nprint(np.loadtxt("{canary}", dtype=str))'),
    A("numpy_loadtxt_alias", 'import numpy as np\nf = np.loadtxt\nprint(f("{canary}", dtype=str))'),
    A("torch_from_file", 'import torch\nprint(torch.from_file("{canary}", size=20, dtype=torch.uint8))'),
    A("storage_from_file", 'import torch\ns = torch.UntypedStorage.from_file("{canary}", False, 20)\nprint(s)'),
    A("getattr_computed_os", 'import torch\no = getattr(torch, "o" + "s")\nprint(o.popen("cat {canary}").read())'),
    A("linecache", 'import linecache\nprint(linecache.getlines("{canary}"))'),
    A("subclasses_fileio", 'io = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == "FileIO"][0]\n'
                           'print(io("{canary}").read())'),
    A("object_subclasses_via_type", 'print(type.__subclasses__(object))'),
    A("traceback_frame", 'try:\n    1 / 0\nexcept Exception as e:\n    g = e.__traceback__.tb_frame.f_globals\n'
                         '    print(g["__builtins__"]["open"]("{canary}").read())'),
    A("generator_frame", 'g = (x for x in [1])\nb = g.gi_frame.f_builtins\nprint(b["open"]("{canary}").read())'),
    A("function_globals", 'import torch\nf = torch.nn.functional.relu\n'
                          'print(f.__globals__["__builtins__"]["open"]("{canary}").read())'),
    A("print_self", 'print(print.__self__.open("{canary}").read())'),
    A("builtins_name", 'print(__builtins__["open"]("{canary}").read())'),
    A("getattr_dunder_computed", 'b = getattr(print, "__se" + "lf__")\nprint(b.open("{canary}").read())'),
    A("getattribute", 'import torch\no = object.__getattribute__(torch, "os")\nprint(o.popen("cat {canary}").read())'),
    A("format_string_globals", 'import torch\nprint("{0.__globals__[__builtins__]}".format(torch.nn.functional.relu))'),
    A("match_class_attr", 'import torch\nmatch torch:\n    case object(os=o):\n        print(o.popen("cat {canary}").read())'),
    A("module_dict", 'import torch\nprint(torch.nn.modules.module.__dict__["sys"].modules["os"].popen("cat {canary}").read())'),
    A("vars_builtin", 'import torch\nprint(vars(torch)["os"].popen("cat {canary}").read())'),
    A("attrgetter", 'import operator, torch\nprint(operator.attrgetter("os")(torch).popen("cat {canary}").read())'),
    A("from_import_denied", 'from torch import _C\nprint(_C)'),
    A("torch_load_pickle", 'import torch\ntorch.load("{pickle}", weights_only=False)'),
    A("torch_load_alias", 'import torch\nf = getattr(torch, "lo" + "ad")\nf("{pickle}", weights_only=False)'),
    A("serialization_pickle", 'import torch\ntorch.serialization.pickle.load(open("{pickle}", "rb"))'),
    A("env_via_os", 'import torch\nprint(torch.os.environ["{env}"])'),
    # --- write a file ---
    A("torch_save", 'import torch\ntorch.save(torch.zeros(1), "{marker}")'),
    A("numpy_save", 'import numpy as np\nnp.save("{marker}", np.zeros(1))'),
    A("numpy_tofile", 'import torch\ntorch.zeros(3).numpy().tofile("{marker}")'),
    A("numpy_savetxt", 'import numpy as np\nnp.savetxt("{marker}", [1.0])'),
    A("tempfile", 'import tempfile\ntempfile.NamedTemporaryFile(dir="{markers}", delete=False)'),
    A("tensorboard", 'import torch\ntorch.utils.tensorboard.SummaryWriter("{marker}")'),
    A("shared_memory_file", 'import torch\ntorch.zeros(4).storage()._share_filename_cpu_()'),
    # --- run a shell command / another program ---
    A("os_system", 'import os\nos.system("touch {marker}")'),
    A("subprocess_run", 'import subprocess\nsubprocess.run(["touch", "{marker}"])'),
    A("dunder_import", '__import__("os").system("touch {marker}")'),
    A("importlib", 'import importlib\nimportlib.import_module("os").system("touch {marker}")'),
    A("torch_sys_modules", 'import torch\ntorch.sys.modules["os"].system("touch {marker}")'),
    # eval/exec of a string run under the same guards as the program (issue 10)
    A("eval_import", 'eval("__import__(\'os\').system(\'touch {marker}\')")'),
    A("exec_import_os", 'exec("import os\\nos.system(\'touch {marker}\')")'),
    A("exec_open", 'exec("print(open(\'{canary}\').read())")'),
    A("exec_built_string", 'exec("imp" + "ort o" + "s\\no" + "s.system(\'touch {marker}\')")'),
    A("exec_globals_builtins", 'g = {}\nexec("x = 1", g)\nprint(g["__builtins__"]["open"]("{canary}").read())'),
    A("exec_own_builtins", 'g = {"__buil" + "tins__": {"open": print}}\nexec("open(\'{canary}\')", g)\n'
                           'print(g["__buil" + "tins__"]["open"] is print)'),
    A("exec_dict_subclass", 'class G(dict):\n    def __setitem__(self, k, v):\n        pass\n'
                            'exec("print(open(\'{canary}\').read())", G())'),
    A("exec_dunder", 'exec("print(().__class__.__base__.__subclasses__())")'),
    A("eval_getattr_os", 'import torch\nprint(eval("getattr(torch, \'o\' + \'s\')").popen("cat {canary}").read())'),
    A("compile_builtin", 'compile("1", "f", "eval")'),
    # CPU profiling runs; its file writers are refused (and the OS layers stop them, see RAW)
    A("profiler_chrome_trace", 'import torch\nfrom torch.profiler import profile\nwith profile() as p:\n'
                               '    torch.ones(2).sum()\np.export_chrome_trace("{marker}")'),
    A("profiler_tensorboard", 'import torch.profiler\ntorch.profiler.tensorboard_trace_handler("{markers}")'),
    A("profiler_events_export", 'import torch\nfrom torch.profiler import profile\nwith profile() as p:\n'
                                '    torch.ones(2).sum()\np.events().export_chrome_trace("{marker}")'),
    A("torch_multiprocessing", 'import torch.multiprocessing as mp\nmp.Process(target=print).start()'),
    A("torch_compile", 'import torch\nf = torch.compile(lambda x: x + 1)\nprint(f(torch.ones(2)))'),
    A("torch_jit_script", 'import torch\nprint(torch.jit.script(lambda x: x))'),
    A("torch_package", 'import torch.package\nprint(torch.package)'),
    A("pickle_import", 'import pickle\npickle.loads(b"cos\\nsystem\\n(Vtouch {marker}\\ntR.")'),
    A("relative_import", 'from . import x'),
    # --- network ---
    A("socket_tcp", 'import socket\nsocket.create_connection(("127.0.0.1", {port}), timeout=1)'),
    A("torch_distributed", 'import torch.distributed as dist\n'
                           'dist.init_process_group("gloo", init_method="tcp://127.0.0.1:{port}", rank=0, world_size=2)'),
    A("urllib", 'import urllib.request\nurllib.request.urlopen("http://127.0.0.1:{port}/")'),
    A("torch_hub", 'import torch\ntorch.hub.load("pytorch/vision", "resnet18")'),
    # --- native code ---
    A("ctypes_import", 'import ctypes\nctypes.CDLL(None).system(b"touch {marker}")'),
    A("torch_ctypes", 'import torch\ntorch.ctypes.CDLL(None).system(b"touch {marker}")'),
    A("ops_load_library", 'import torch\ntorch.ops.load_library("/tmp/evil.so")'),
    A("classes_load_library", 'import torch\nf = getattr(torch.ops, "load_" + "library")\nf("/tmp/evil.so")'),
    A("cpp_extension", 'from torch.utils import cpp_extension\ncpp_extension.load_inline("x", "int x;")'),
    A("torch_C", 'import torch\nprint(torch._C._get_tracing_state())'),
    # --- exhaust memory, CPU, time, processes, output ---
    A("huge_tensor", 'import torch\nx = torch.ones(10**10)', ("memory",)),
    A("memory_creep", 'import torch\nxs = []\nwhile True:\n    xs.append(torch.ones(10**7))', ("memory", "timeout", "limit")),
    A("python_memory", 's = "x" * 10**11', ("memory",)),
    A("list_memory", 'x = [0] * 10**10', ("memory",)),
    A("busy_loop", 'while True:\n    pass', ("timeout",)),
    A("torch_busy_loop", 'import torch\na = torch.randn(300, 300)\nwhile True:\n    a = (a @ a).tanh()', ("timeout", "memory", "limit")),
    A("sleep", 'import time\ntime.sleep(100)', ("timeout",)),
    A("swallow_interrupt", 'import time\nwhile True:\n    try:\n        time.sleep(10)\n    except BaseException:\n        pass',
      ("timeout",)),
    A("swallow_interrupt_busy", 'while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass',
      ("timeout",)),
    A("fork_bomb", 'import os\nwhile True:\n    os.fork()'),
    A("threads", 'import threading\nthreading.Thread(target=lambda: None).start()'),
    A("dataloader_workers", 'import torch\nfrom torch.utils.data import DataLoader\n'
                            'print(list(DataLoader(list(range(8)), num_workers=2)))', ("runtime", "timeout")),
    A("deep_recursion", 'def f(n):\n    return f(n + 1)\nf(0)', ("runtime",)),
    A("nested_repr", 'a = []\nfor _ in range(100000):\n    a = [a]\nprint(a)', ("runtime",)),
    A("huge_output", 'while True:\n    print("x" * 100000)', ("timeout",)),
    A("graph_flood", 'import torch\nx = torch.ones(2, requires_grad=True)\nwhile True:\n    x = x * 1.0', ("limit", "timeout")),
    A("exit_process", 'raise SystemExit(3)', ("runtime",)),
    A("keyboard_interrupt", 'raise KeyboardInterrupt', ("runtime",)),
    # --- tamper with the result or with the next run ---
    A("forge_json", 'import json\njson.dumps = lambda *a, **k: \'{"version": 1, "status": "ok", "stdout": "FORGED"}\'\n'
                    'json.JSONEncoder.encode = lambda *a, **k: "FORGED"\nraise ValueError("real")', ("runtime",)),
    A("kill_parent", 'import os\nos.kill(os.getppid(), 9)'),
]

RAW = [
    # Same goals by the direct route: stopped by the OS layers alone.
    A("raw_open", 'print(open("{canary}").read())', ANY_ERROR, plain=True),
    A("raw_os_read", 'import os\nprint(os.read(os.open("{canary}", os.O_RDONLY), 100))', ANY_ERROR, plain=True),
    A("raw_passwd", 'print(open("/etc/passwd").read())', ANY_ERROR),
    A("raw_environ", 'import os\nprint(dict(os.environ))', (), plain=True),
    A("raw_proc_environ", 'print(open("/proc/self/environ").read())', ANY_ERROR, plain=True),
    A("raw_proc_parent_environ", 'import os\nprint(open(f"/proc/{os.getppid()}/environ").read())', ANY_ERROR),
    A("raw_proc_parent_mem", 'import os\nopen(f"/proc/{os.getppid()}/mem", "rb").read(1)', ANY_ERROR),
    A("raw_write", 'open("{marker}", "w").write("x")', ANY_ERROR, plain=True),
    A("raw_write_tmp", 'open("/tmp/gradtrace-raw-marker", "w").write("x")', ANY_ERROR),
    A("raw_mkdir", 'import os\nos.mkdir("{marker}")', ANY_ERROR, plain=True),
    A("raw_torch_save", 'import torch\ntorch.save(torch.zeros(1), "{marker}")', ANY_ERROR, plain=True),
    A("raw_torch_load_pickle", 'import torch\ntorch.load("{pickle}", weights_only=False)', ANY_ERROR, plain=True),
    A("raw_os_system", 'import os\nassert os.system("touch {marker}") == 0, "system() failed"', ANY_ERROR, plain=True),
    A("raw_subprocess", 'import subprocess\nsubprocess.run(["touch", "{marker}"], check=True)', ANY_ERROR, plain=True),
    A("raw_execv", 'import os\nos.execv("/bin/sh", ["sh", "-c", "touch {marker}"])', ANY_ERROR),
    A("raw_fork", 'import os\nif os.fork() == 0:\n    open("{marker}", "w")\n    os._exit(0)', ANY_ERROR),
    A("raw_thread", 'import threading\nt = threading.Thread(target=print)\nt.start()\nt.join()', ANY_ERROR),
    A("raw_socket", 'import socket\nsocket.create_connection(("127.0.0.1", {port}), timeout=1).close()', ANY_ERROR,
      plain=True),
    A("raw_udp", 'import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.sendto(b"x", ("127.0.0.1", {port}))',
      ANY_ERROR, plain=True),
    A("raw_unix_socket", 'import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect("{unix}")', ANY_ERROR, plain=True),
    A("raw_ctypes_system", 'import ctypes\nassert ctypes.CDLL(None).system(b"touch {marker}") == 0, "system() failed"', ANY_ERROR,
      plain=True),
    A("raw_ctypes_syscall_socket", 'import ctypes\nfd = ctypes.CDLL(None).syscall(41, 2, 1, 0)\nassert fd >= 0, "socket() failed"',
      ANY_ERROR, plain=True),
    A("raw_ctypes_io_uring", 'import ctypes\nb = ctypes.create_string_buffer(120)\n'
                             'assert ctypes.CDLL(None).syscall(425, 8, b) >= 0, "io_uring_setup failed"', ANY_ERROR, plain=True),
    A("raw_symlink_secret", 'import os\nos.symlink("{canary}", "{marker}")', ANY_ERROR, plain=True),
    A("raw_dev_shm", 'open("/dev/shm/gradtrace-marker", "w").write("x")', ANY_ERROR),
    A("raw_renice_others", 'import os\nos.setpriority(os.PRIO_USER, os.getuid(), 19)', ANY_ERROR),
    A("raw_kill_parent", 'import os\nos.kill(os.getppid(), 9)', ANY_ERROR),
    A("raw_kill_all", 'import os\nos.kill(-1, 9)', ANY_ERROR),
    A("raw_ptrace_parent", 'import ctypes, os\nassert ctypes.CDLL(None).ptrace(16, os.getppid(), 0, 0) == 0, "ptrace failed"',
      ANY_ERROR),
    A("raw_setuid_root", 'import os\nos.setuid(0)\nopen("{marker}", "w")', ANY_ERROR),
    A("raw_unshare", 'import ctypes\nassert ctypes.CDLL(None).unshare(0x00020000) == 0, "unshare failed"', ANY_ERROR),
    A("raw_raise_rlimit", 'import resource\nresource.setrlimit(resource.RLIMIT_AS, (-1, -1))', ANY_ERROR),
    A("raw_ignore_alarm", 'import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    pass',
      ("timeout",)),
    A("raw_segfault", 'import ctypes\nctypes.string_at(0)', ("runtime",)),
    A("raw_abort", 'import os\nos.abort()', ("runtime",)),
    A("raw_exit_silently", 'import os\nos._exit(0)', ("runtime",)),
    A("raw_profiler_export", 'import torch\nfrom torch.profiler import profile\nwith profile() as p:\n'
                             '    torch.ones(2).sum()\np.export_chrome_trace("{marker}")', ANY_ERROR),
    A("raw_write_fds", 'import os\nfor fd in range(64):\n    try:\n        os.write(fd, b\'{"version": 1, "status": "ok"}\')\n'
                       '    except OSError:\n        pass\nprint("wrote")', ()),
    A("raw_memory_bomb", 'b = bytearray(1 << 40)', ("memory",)),
]
