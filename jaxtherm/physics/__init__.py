"""The physics of one point, with no solver choice and no batching.

``operators`` (ladder and Pauli matrices, tensor products), ``spectra`` (bath spectra and
occupations), ``liouvillian`` (vectorisation, the real representation and the superoperators of
Lindblad terms), ``davies`` (eigendecomposition with a degeneracy-safe derivative, Davies jump
operators, the dense global generator), ``secular`` (the global generator directly on a
symmetry sector's coordinates), ``observables`` (heat currents, power, entropy production) and
``fluctuations`` (counting statistics: current noise). Formulas and sign conventions:
``docs/design.md`` §2. Physics reads a model's terms but never imports ``jaxtherm.models``.
"""
