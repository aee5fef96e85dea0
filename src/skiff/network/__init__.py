"""Host networking primitives (later issues)."""
