"""Soft limits inside the child: interrupt the program (so a partial trace comes back) when its wall-clock
or CPU time runs out. The parent's hard kill stays the real limit: a signal handler only runs between
Python bytecodes, so a long torch op or a program that swallows the interrupt is killed from outside."""
import signal

from ..tracer import Abort


IDLE_SIGNAL = signal.SIGUSR1  # sent (through the warm parent) when the run sleeps instead of computing


def idle_message(idle_limit_s: float) -> str:
    return f"the program waited (slept or blocked) for more than {idle_limit_s:g} s without computing and was stopped"


def arm(timeout_s: float, cpu_s: int, idle_limit_s: float = 0.0) -> None:
    def on_alarm(signum, frame):
        raise Abort("timeout", f"the program ran longer than {timeout_s:g} s and was stopped")

    def on_idle(signum, frame):
        raise Abort("timeout", idle_message(idle_limit_s))

    def on_cpu(signum, frame):
        raise Abort("timeout", f"the program used more than {cpu_s} s of CPU time and was stopped")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGXCPU, on_cpu)
    signal.signal(IDLE_SIGNAL, on_idle)
    signal.setitimer(signal.ITIMER_REAL, timeout_s)


def disarm() -> None:
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    signal.signal(signal.SIGXCPU, signal.SIG_IGN)
    signal.signal(IDLE_SIGNAL, signal.SIG_IGN)
