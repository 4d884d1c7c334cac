"""Language guards of a run: a convenience for clear refusals, not the boundary (the OS layers are)."""
