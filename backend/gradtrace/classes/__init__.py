"""Live class sessions: a presenter drives, followers follow over Server-Sent Events, questions get tallied.

`Hub` is the per-process part (event streams, throttled tallies, idle ends); the store holds sessions,
questions and tallies and fans events out: in memory (one process) or in Redis (every replica).
"""
from .hub import Hub, hub_from_settings
from .store import ClassStore, MemoryStore

__all__ = ["ClassStore", "Hub", "MemoryStore", "hub_from_settings"]
