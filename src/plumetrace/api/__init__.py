"""The HTTP API of the analysts' workbench (FastAPI).

Build it with :func:`create_app` from a :class:`~plumetrace.settings.Settings`; every
route declares the roles it allows (:func:`~plumetrace.api.deps.allow`).
"""

from plumetrace.api.app import create_app

__all__ = ["create_app"]
