"""``python -m sysjobs.cli``."""

from sysjobs.cli import main

main()
