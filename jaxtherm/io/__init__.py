"""Input and output at the edges: the HDF5 results file (``hdf5`` writes it, ``h5read`` reads
it, ``integrity`` checks its bytes and opens it in any state, ``triage`` says what an output path
holds; h5py is imported only in this package), the crash-safe journal beside it, data tables for
fits, and reading results (``read``: ``jaxtherm.open`` and ``info``; ``lazy``: open's xarray
backend). Knows no physics: it writes named arrays with attributes."""
