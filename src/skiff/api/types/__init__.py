"""Pydantic v2 models of every served kind, one module per group/version."""
