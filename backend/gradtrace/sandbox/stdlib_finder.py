"""Lazy standard-library imports for a run whose uid cannot walk to the Python installation (a pyenv
under /root, say): the child enters the stdlib folder as its working directory while still root, and this
finder, last on sys.meta_path, loads `.py` modules through paths relative to it. (Python's own finders
turn relative sys.path entries into absolute ones, which the run's uid could not traverse.)
Landlock still decides what may be read."""
import importlib.machinery
import importlib.util
import os
import sys
import sysconfig


STDLIB = sysconfig.get_paths()["stdlib"]  # looked up once in the warm parent (sysconfig takes ~0.5 ms a call)


class CwdStdlibFinder:
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        rel = name.replace(".", "/")
        for candidate, package in ((rel + "/__init__.py", True), (rel + ".py", False)):
            if os.path.isfile(candidate):
                loader = importlib.machinery.SourceFileLoader(name, candidate)
                return importlib.util.spec_from_file_location(
                    name, candidate, loader=loader, submodule_search_locations=[rel] if package else None)
        return None


def install() -> bool:
    """chdir into the stdlib (call while still privileged); False when that folder can't be entered."""
    try:
        os.chdir(STDLIB)
    except OSError:
        return False
    sys.meta_path.append(CwdStdlibFinder)
    return True
