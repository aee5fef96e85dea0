"""Revisioned key/value store with watch, kine-shaped. Knows bytes and keys, never API types."""
