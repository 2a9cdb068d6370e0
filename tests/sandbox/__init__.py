"""Local stand-in for the Mimecast API, for tests and demos only (see README.md)."""

from .server import Sandbox

__all__ = ["Sandbox"]
