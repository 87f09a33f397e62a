"""docatlas: accurate, navigable documentation for any source repository."""

__version__ = "0.1.0"
