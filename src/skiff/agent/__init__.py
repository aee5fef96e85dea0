"""Node agent (later issues)."""
