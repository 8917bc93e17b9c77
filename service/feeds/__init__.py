"""Device feeds at the edge: credentials, protocols' routes, and the intake they share."""
