"""Probes: run the layers against endpoints and record what happened (never raise)."""
