"""Service calls: every arrow on the data path. Pages call these; they enforce permissions."""
