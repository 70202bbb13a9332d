"""Model × parameters → observables: the one single-point kernel (``point``) and the one
place that batches it, compiles it and applies the solvers' fallback (``batch``)."""
