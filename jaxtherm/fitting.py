"""Compatibility alias of ``jaxtherm.design.fit`` (earlier READMEs wrote
``from jaxtherm.fitting import fit``); new code imports ``jaxtherm.design.fit``."""

from jaxtherm.design.fit import bootstrap, fit

__all__ = ["bootstrap", "fit"]
