"""gradtrace: see PyTorch's autograd at work."""
__version__ = "0.1.0"
