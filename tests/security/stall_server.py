"""`gradtrace serve` as the CLI starts it, with the language guards off: a program then controls its own process
completely (the threat model the OS layers hold alone), e.g. to forge its own result frame. Used by test_stalls.py.

    python tests/security/stall_server.py PORT
"""
import sys

from gradtrace.api.app import create_app
from gradtrace.api.door import serve
from gradtrace.config import get_settings
from gradtrace.sandbox import SandboxRunner

if __name__ == "__main__":
    settings = get_settings()
    runner = SandboxRunner(settings, language_guards=False)
    try:
        serve(create_app(settings, runner=runner), settings, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
    finally:
        runner.close()  # a runner passed to create_app is the caller's to close
