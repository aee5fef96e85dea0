"""Scheduler (later issues)."""
