"""``python -m jaxtherm``: the command-line interface (see ``jaxtherm.cli``)."""

from .cli import main

raise SystemExit(main())
