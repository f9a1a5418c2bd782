"""The spec's JavaScript samples with their sidecars, shipped inside the package.

One copy only: ``sysjobs demo`` runs them from here (so it works from a wheel, in any
folder), and the test suite reads them from here too. ``README.md`` beside this file says
how they were extracted from the spec and what a sidecar may state.
"""

from __future__ import annotations

from pathlib import Path

#: The folder of ``*.js`` samples and their ``*.expected.yaml`` sidecars.
SAMPLES_DIR = Path(__file__).resolve().parent
