"""``plumetrace detect``: gas enhancement retrieval from a radiance scene."""

import typer


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
