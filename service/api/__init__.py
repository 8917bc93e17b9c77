"""The HTTP API under /api/v1: thin adapters from wire schemas to the domain and the stores."""
