"""The root typer application that every command module registers on.

Help is plain text (``rich_markup_mode=None``, on every sub-app too): the rich layout
shows a ``<bool>`` type column for flags that take no value, and renders docstrings'
markup literally. A test reads every command's ``--help`` for both.
"""

import typer

app = typer.Typer(
    name="sysjobs",
    help="Run platform JavaScript in a V8 sandbox and manage background jobs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _root() -> None:
    """Run platform JavaScript in a V8 sandbox and manage background jobs."""
