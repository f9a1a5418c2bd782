"""The root typer application that every command module registers on."""

import typer

app = typer.Typer(
    name="sysjobs",
    help="Run platform JavaScript in a V8 sandbox and manage background jobs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Run platform JavaScript in a V8 sandbox and manage background jobs."""
