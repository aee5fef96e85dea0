"""Domain-free helpers (clock, back-off, task helpers). Standard library only, but for
`websocket` (uvicorn's WebSocket protocol, shared by the API server and the node agent)."""
