"""The operator vocabulary for user models (``from jaxtherm.operators import num, sigmam``, as in
the README): the public name of ``jaxtherm.physics.operators``, which code inside the package
imports instead."""

from jaxtherm.physics.operators import *  # noqa: F403
from jaxtherm.physics.operators import __all__  # noqa: F401
