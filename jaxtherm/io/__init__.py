"""Input and output at the edges: the HDF5 results file (the only h5py importer) and the
crash-safe journal beside it. Knows no physics: it writes named arrays with attributes."""
