"""What a person sees: the ``jaxtherm`` command (``commands``), plots of results files
(``plot``) and the seed's story table (``story``)."""

from jaxtherm.cli.commands import main

__all__ = ["main"]
