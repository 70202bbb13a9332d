"""The optimisation studies bundled with jaxtherm (``jaxtherm optimize NAME``)."""
