"""The OS-level isolation of one child, applied in order; each layer that fails is reported, not fatal,
so the sandbox degrades on kernels without one (the warm parent compares against its startup probe)."""
import os

from . import identity, landlock, rlimits, seccomp

LAYER_NAMES = ("uid", "namespaces", "capabilities", "no_new_privs", "rlimits", "landlock", "seccomp")


def apply_all(options, ruleset_fd: int | None, parent_pid: int) -> tuple[dict, dict]:
    """Isolate this (freshly forked) process. Returns ({layer: active?}, {layer: error text})."""
    active, errors = {}, {}

    def attempt(name, fn):
        try:
            fn()
            active[name] = True
        except OSError as exc:
            active[name] = False
            errors[name] = f"{type(exc).__name__}: {exc}"

    # uid first (it resets dumpability and would clear the death signal), then limits that need a non-root uid
    if os.geteuid() == 0:
        attempt("uid", lambda: identity.drop_uid(options.uid, options.gid))
    else:
        active["uid"], errors["uid"] = False, "not started as root: kept the server's uid"
    attempt("rlimits", lambda: rlimits.apply(options.memory_mb, options.cpu_s, cap_processes=os.getuid() != 0))
    attempt("namespaces", identity.unshare_namespaces)
    attempt("capabilities", identity.drop_capabilities)
    attempt("no_new_privs", identity.no_new_privs_and_undumpable)
    identity.die_with_parent(parent_pid)
    if ruleset_fd is None:
        active["landlock"], errors["landlock"] = False, "no ruleset (unsupported kernel)"
    else:
        attempt("landlock", lambda: landlock.restrict_self(ruleset_fd))
        os.close(ruleset_fd)
    attempt("seccomp", lambda: seccomp.install(os.getpid()))
    return active, errors
