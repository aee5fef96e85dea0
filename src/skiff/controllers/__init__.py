"""Controllers (later issues)."""
