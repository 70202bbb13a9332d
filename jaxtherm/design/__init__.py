"""Design studies on top of the kernel: objective expressions (``expressions``, JAX-free, so the
spec parser may use them), gradient-based optimisation (``optimize``) and fitting model
parameters to measured tables (``fit``)."""
