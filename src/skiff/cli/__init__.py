"""kubectl-like CLI helpers (later issues)."""
