"""`tasks`: declarative batches and imperative commands for Coder Tasks."""

__version__ = "0.1.0"
