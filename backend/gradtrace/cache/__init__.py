"""Finished traces kept and shared: request keys, a bounded LRU, Redis for all replicas, single-flight runs."""
from .keys import cache_namespace, request_defaults, trace_key, valid_key
from .service import CachedTrace, TraceService

__all__ = ["CachedTrace", "TraceService", "cache_namespace", "request_defaults", "trace_key", "valid_key"]
