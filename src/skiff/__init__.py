"""skiff: a container orchestrator in Python that speaks the Kubernetes API.

Layers (higher may import lower; see docs/architecture.md and .importlinter):
cmd > cli | controllers | scheduler | agent > apiserver | client > store | runtime | network > api > util
"""

__version__ = "0.1.0"
KUBERNETES_VERSION = "v1.32.4"
