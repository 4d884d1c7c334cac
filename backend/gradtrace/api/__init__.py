"""The REST API: validates requests, asks the runner for a Trace, returns it."""
