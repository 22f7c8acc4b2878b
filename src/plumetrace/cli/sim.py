"""``plumetrace sim``: scenario simulation commands."""

import typer

app = typer.Typer(help="Simulate scenes and scenarios.", no_args_is_help=True)
