"""Command-line helpers built on ``skiff.client`` (``skiff apply -f``); kubectl stays the main
CLI. Uses the client only, never the API server's internals."""
