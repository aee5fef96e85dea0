"""Kubernetes API types, defaulting, validation, selectors, quantities, patch algorithms, printers.

Pure data and pure functions: no I/O, no asyncio. Imports only util, the standard library and pydantic."""
