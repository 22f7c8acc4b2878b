"""``plumetrace demo``: the end-to-end demonstration."""

import typer


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
