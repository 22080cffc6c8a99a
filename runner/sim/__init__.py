"""A simulated Coder deployment: an HTTP server on loopback that follows the Tasks contract."""
