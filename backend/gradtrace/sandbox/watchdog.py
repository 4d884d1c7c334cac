"""Soft limits inside the child: interrupt the program (so a partial trace comes back) when its wall-clock
or CPU time runs out. The parent's hard kill stays the real limit: a signal handler only runs between
Python bytecodes, so a long torch op or a program that swallows the interrupt is killed from outside."""
import signal

from ..tracer import Abort


def arm(timeout_s: float, cpu_s: int) -> None:
    def on_alarm(signum, frame):
        raise Abort("timeout", f"the program ran longer than {timeout_s:g} s and was stopped")

    def on_cpu(signum, frame):
        raise Abort("timeout", f"the program used more than {cpu_s} s of CPU time and was stopped")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGXCPU, on_cpu)
    signal.setitimer(signal.ITIMER_REAL, timeout_s)


def disarm() -> None:
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    signal.signal(signal.SIGXCPU, signal.SIG_IGN)
