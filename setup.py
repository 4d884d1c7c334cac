"""Packaging glue pyproject.toml cannot express: the page (frontend/) ships inside the package as gradtrace/frontend."""
from setuptools import find_packages, setup

setup(packages=[*find_packages("backend"), "gradtrace.frontend"])
