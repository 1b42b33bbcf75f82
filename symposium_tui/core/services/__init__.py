"""Use cases composed from engine calls: the CLI and the dashboard call these."""
