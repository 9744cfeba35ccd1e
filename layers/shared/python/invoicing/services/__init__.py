"""Use cases: orchestrate the domain and the adapters. Handlers call exactly one of these."""
