"""Domain-free helpers (clock, back-off, task helpers). Standard library only."""
