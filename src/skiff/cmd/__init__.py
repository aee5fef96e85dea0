"""Composition roots: the ``skiff`` command (``server``, ``apiserver``, ``apply``, ``kubectl``).

The only package that names concrete implementations (the SQLite store, uvicorn on uvloop); it
turns flags into configured components and runs them. ``skiff server`` supervises the API server
as a child process; the controller-manager and the node agent join it in later issues.
"""
