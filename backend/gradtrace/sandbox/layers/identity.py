"""Who the run is: an unprivileged uid, fresh user/network/IPC/UTS namespaces, no capabilities."""
import ctypes
import os
import signal

from . import libc

CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


def drop_uid(uid: int, gid: int) -> None:
    """Become uid/gid for good (real, effective and saved ids, no supplementary groups). Needs root."""
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise OSError("uid drop did not stick")


def unshare_namespaces() -> None:
    """New user namespace (unprivileged) holding a new, empty network namespace: no interfaces, no loopback
    listener of the host is reachable, abstract unix sockets are private; IPC and hostname are private too."""
    libc.syscall(libc.NR_UNSHARE, CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_capabilities() -> None:
    """Clear every capability (a new user namespace grants a full set inside it)."""
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    libc.syscall(libc.NR_CAPSET, ctypes.addressof(header), ctypes.addressof(data))


def no_new_privs_and_undumpable() -> None:
    """No setuid/file-capability gains through exec; no ptrace or /proc/<pid>/mem access by the same uid."""
    libc.prctl(libc.PR_SET_NO_NEW_PRIVS, 1)
    libc.prctl(libc.PR_SET_DUMPABLE, 0)


def die_with_parent(parent_pid: int) -> None:
    """SIGKILL this process when the warm parent dies (set last: credential changes clear it)."""
    libc.prctl(libc.PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:
        os._exit(1)
