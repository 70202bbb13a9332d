"""``python -m jaxtherm``: the command-line interface (see :mod:`jaxtherm.cli`)."""

from .cli import main

raise SystemExit(main())
