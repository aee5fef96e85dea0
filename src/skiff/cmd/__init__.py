"""Composition roots: skiff server, apiserver, and the command line entry point."""
