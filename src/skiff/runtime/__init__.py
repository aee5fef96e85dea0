"""Container runtimes (later issues)."""
