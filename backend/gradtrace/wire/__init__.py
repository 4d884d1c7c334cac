"""The wire format between a sandboxed run and a client, torch-free: the check of a run's result frame (check.py),
the forms a checked trace is answered in (render.py), and the process pool both run in, off the event loop (pool.py).

One canonical form: compact version 1 (a value table and integer refs), checked once, cached once per
(program, seed, options that change the content); `full` and compact version 2 are made from it on request.
"""
