"""``python -m jaxtherm``: the command-line interface (see ``jaxtherm.cli.commands``)."""

from jaxtherm.cli.commands import main

raise SystemExit(main())
