"""Landlock: read-only access to the Python/torch trees, nothing else; no TCP; no signals or abstract sockets
outside the run's own domain. The ruleset is built once in the warm parent and enforced by each child."""
import ctypes
import os

from . import libc

CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1

FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FS_ABI1 = (1 << 13) - 1  # execute .. make_sym
_FS_BY_ABI = {1: _FS_ABI1, 2: _FS_ABI1 | 1 << 13, 3: _FS_ABI1 | 3 << 13, 4: _FS_ABI1 | 3 << 13,
              5: _FS_ABI1 | 7 << 13}  # + refer, + truncate, + ioctl_dev
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def abi_version() -> int:
    """The kernel's Landlock ABI (0 when unsupported or disabled)."""
    if not libc.X86_64:
        return 0
    try:
        return libc.syscall(libc.NR_LANDLOCK_CREATE_RULESET, 0, 0, CREATE_RULESET_VERSION)
    except OSError:
        return 0


def create_ruleset(read_paths: list[str]) -> tuple[int, dict]:
    """A ruleset fd allowing only reads beneath `read_paths`, and a description of what it handles."""
    abi = abi_version()
    if abi < 1:
        raise OSError("Landlock is not available on this kernel")
    attr = _RulesetAttr(_FS_BY_ABI[min(abi, 5)], NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0,
                        SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8  # older kernels reject fields they don't know
    fd = libc.syscall(libc.NR_LANDLOCK_CREATE_RULESET, ctypes.addressof(attr), size, 0)
    allowed = []
    for path in read_paths:
        try:
            pfd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            access = FS_READ_FILE | (FS_READ_DIR if os.path.isdir(path) else 0)
            rule = _PathBeneath(access, pfd)
            libc.syscall(libc.NR_LANDLOCK_ADD_RULE, fd, RULE_PATH_BENEATH, ctypes.addressof(rule), 0)
            allowed.append(path)
        finally:
            os.close(pfd)
    os.set_inheritable(fd, True)
    info = {"abi": abi, "read_only": allowed, "net": abi >= 4, "scoped": abi >= 6}
    return fd, info


def restrict_self(ruleset_fd: int) -> None:
    """Enforce the ruleset on this process and its future children, irreversibly (needs no_new_privs)."""
    libc.syscall(libc.NR_LANDLOCK_RESTRICT_SELF, ruleset_fd, 0)
