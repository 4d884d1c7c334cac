"""A seccomp-BPF filter: no new processes, exec, sockets, writes to files, or reaching other processes.

Default-allow with a deny list, because torch's set of harmless syscalls is large and version-dependent;
denied calls fail with EPERM so the program sees a plain PermissionError instead of dying.
"""
import ctypes
import struct

from . import libc

AUDIT_ARCH_X86_64 = 0xC000003E
RET_KILL_PROCESS = 0x80000000
RET_ERRNO_EPERM = 0x00050000 | 1
RET_ALLOW = 0x7FFF0000
SECCOMP_MODE_FILTER = 2

# BPF opcodes (linux/filter.h)
LD_ABS = 0x20
JEQ = 0x15
JGE = 0x35
JSET = 0x45
RET = 0x06

# Denied outright (x86_64 numbers), grouped by what they would let a program do.
DENY = {
    # new processes and programs (clone also covers threads: a run is single-threaded)
    "clone": 56, "fork": 57, "vfork": 58, "execve": 59, "execveat": 322, "clone3": 435,
    # network and IPC endpoints
    "socket": 41, "connect": 42, "accept": 43, "bind": 49, "listen": 50, "socketpair": 53, "accept4": 288,
    "shmget": 29, "shmat": 30, "semget": 64, "msgget": 68, "mq_open": 240,
    # reaching other processes
    "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312, "rt_sigqueueinfo": 129,
    "rt_tgsigqueueinfo": 297, "pidfd_open": 434, "pidfd_getfd": 438, "pidfd_send_signal": 424,
    "process_madvise": 440, "process_mrelease": 448, "migrate_pages": 256, "move_pages": 279,
    "setpriority": 141, "sched_setparam": 142, "sched_setscheduler": 144, "sched_setaffinity": 203,
    "sched_setattr": 314, "ioprio_set": 251,
    # file system changes (Landlock also forbids them; this layer works without it)
    "creat": 85, "mkdir": 83, "mkdirat": 258, "rmdir": 84, "unlink": 87, "unlinkat": 263, "rename": 82,
    "renameat": 264, "renameat2": 316, "link": 86, "linkat": 265, "symlink": 88, "symlinkat": 266,
    "chmod": 90, "fchmod": 91, "fchmodat": 268, "fchmodat2": 452, "chown": 92, "fchown": 93, "lchown": 94,
    "fchownat": 260, "truncate": 76, "ftruncate": 77, "fallocate": 285, "mknod": 133, "mknodat": 259,
    "utime": 132, "utimes": 235, "utimensat": 280, "futimesat": 261, "setxattr": 188, "lsetxattr": 189,
    "fsetxattr": 190, "removexattr": 197, "lremovexattr": 198, "fremovexattr": 199, "openat2": 437,
    "name_to_handle_at": 303, "open_by_handle_at": 304, "memfd_create": 319, "memfd_secret": 447,
    # namespaces, mounts, privileges, limits
    "unshare": 272, "setns": 308, "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161,
    "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
    "mount_setattr": 442, "setuid": 105, "setgid": 106, "setreuid": 113, "setregid": 114, "setgroups": 116,
    "setresuid": 117, "setresgid": 119, "setfsuid": 122, "setfsgid": 123, "capset": 126, "setrlimit": 160,
    "personality": 135,
    # kernel surfaces a traced program never needs
    "bpf": 321, "perf_event_open": 298, "userfaultfd": 323, "io_uring_setup": 425, "io_uring_enter": 426,
    "io_uring_register": 427, "keyctl": 250, "add_key": 248, "request_key": 249, "kexec_load": 246,
    "kexec_file_load": 320, "init_module": 175, "finit_module": 313, "delete_module": 176, "reboot": 169,
    "swapon": 167, "swapoff": 168, "acct": 163, "syslog": 103, "quotactl": 179, "quotactl_fd": 443,
    "vhangup": 153, "iopl": 172, "ioperm": 173, "modify_ldt": 154, "uselib": 134, "sethostname": 170,
    "setdomainname": 171, "settimeofday": 164, "clock_settime": 227, "adjtimex": 159, "clock_adjtime": 305,
    "lookup_dcookie": 212, "fanotify_init": 300, "inotify_init": 253, "inotify_init1": 294,
}

NR_OPEN, NR_OPENAT = 2, 257
NR_KILL, NR_TKILL, NR_TGKILL = 62, 200, 234
NR_PRLIMIT64, NR_IOCTL, NR_PRCTL = 302, 16, 157
# O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_TMPFILE's own bit: any of them means "may write"
OPEN_WRITE_FLAGS = 0o1 | 0o2 | 0o100 | 0o1000 | 0o2000 | 0o20000000
TIOCSTI, TIOCLINUX = 0x5412, 0x541C
# prctl options that would undo other layers: pdeathsig, dumpable, ptracer, mm, securebits, ambient caps
DENIED_PRCTL = (1, 4, 0x59616D61, 35, 28, 47)


def _arg(i: int, high: bool = False) -> int:
    return 16 + 8 * i + (4 if high else 0)  # offsetof(struct seccomp_data, args[i]), little-endian


def _ins(code: int, k: int, jt: int = 0, jf: int = 0) -> tuple:
    return (code, jt, jf, k)


def _deny_if_arg_in(nr: int, arg: int, values: tuple) -> list:
    """nr with args[arg] (low 32 bits) equal to one of values -> EPERM; nr otherwise -> ALLOW."""
    body = [_ins(LD_ABS, _arg(arg))]
    for i, v in enumerate(values):
        body.append(_ins(JEQ, v, len(values) - i, 0))  # jump to the EPERM below
    body += [_ins(RET, RET_ALLOW), _ins(RET, RET_ERRNO_EPERM)]
    return [_ins(JEQ, nr, 0, len(body))] + body


def _allow_only_if_arg(nr: int, arg: int, value: int) -> list:
    """nr allowed only when args[arg] == value (both halves for value 0, low half for a pid)."""
    body = [_ins(LD_ABS, _arg(arg)), _ins(JEQ, value, 0, 3 if value == 0 else 1)]
    if value == 0:
        body += [_ins(LD_ABS, _arg(arg, high=True)), _ins(JEQ, 0, 0, 1)]
    body += [_ins(RET, RET_ALLOW), _ins(RET, RET_ERRNO_EPERM)]
    return [_ins(JEQ, nr, 0, len(body))] + body


def _deny_write_open(nr: int, flags_arg: int) -> list:
    body = [_ins(LD_ABS, _arg(flags_arg)), _ins(JSET, OPEN_WRITE_FLAGS, 1, 0), _ins(RET, RET_ALLOW),
            _ins(RET, RET_ERRNO_EPERM)]
    return [_ins(JEQ, nr, 0, len(body))] + body


def build_filter(pid: int) -> list:
    """The program as (code, jt, jf, k) tuples; `pid` is the only process signals may be sent to."""
    prog = [
        _ins(LD_ABS, 4), _ins(JEQ, AUDIT_ARCH_X86_64, 1, 0), _ins(RET, RET_KILL_PROCESS),  # no i386/int 0x80 door
        _ins(LD_ABS, 0), _ins(JGE, 0x40000000, 0, 1), _ins(RET, RET_ERRNO_EPERM),  # no x32 syscalls
    ]
    for nr in sorted(set(DENY.values())):
        prog += [_ins(JEQ, nr, 0, 1), _ins(RET, RET_ERRNO_EPERM)]
    # each block below ends in a RET, so the syscall number in the accumulator is reloaded only once per block
    for block in (_deny_write_open(NR_OPEN, 1), _deny_write_open(NR_OPENAT, 2),
                  _allow_only_if_arg(NR_KILL, 0, pid), _allow_only_if_arg(NR_TKILL, 0, pid),
                  _allow_only_if_arg(NR_TGKILL, 0, pid), _allow_only_if_arg(NR_PRLIMIT64, 2, 0),
                  _deny_if_arg_in(NR_IOCTL, 1, (TIOCSTI, TIOCLINUX)), _deny_if_arg_in(NR_PRCTL, 0, DENIED_PRCTL)):
        prog += block
    prog.append(_ins(RET, RET_ALLOW))
    return prog


_INS = struct.Struct("<HBBI")
_prepared: tuple[bytes, tuple[int, ...]] | None = None  # (packed filter for pid 1, indexes of the pid's instructions)


def prepare() -> None:
    """Build and pack the filter once (in the warm parent): a child then only writes its pid into it."""
    global _prepared
    one, two = build_filter(1), build_filter(2)
    slots = tuple(i for i, (a, b) in enumerate(zip(one, two)) if a != b)
    if len(one) != len(two) or any(one[i][:3] != two[i][:3] for i in slots):
        return  # the filter's shape depends on the pid: each child builds its own (packed() without a copy)
    _prepared = (b"".join(_INS.pack(*ins) for ins in one), slots)


def packed(pid: int) -> bytes:
    """The filter for `pid` as the kernel reads it (struct sock_filter[]), from prepare()'s copy when there is one."""
    if _prepared is None:
        return b"".join(_INS.pack(*ins) for ins in build_filter(pid))
    raw, slots = _prepared
    buf = bytearray(raw)
    for i in slots:
        code, jt, jf, _ = _INS.unpack_from(buf, i * _INS.size)
        _INS.pack_into(buf, i * _INS.size, code, jt, jf, pid)
    return bytes(buf)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install(pid: int) -> None:
    """Load the filter into this process for good (needs no_new_privs or CAP_SYS_ADMIN)."""
    if not libc.X86_64:
        raise OSError("seccomp filter table is for x86_64 only")
    data = packed(pid)
    raw = ctypes.create_string_buffer(data)
    fprog = _SockFprog(len(data) // _INS.size, ctypes.addressof(raw))
    libc.prctl(libc.PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog))
