"""Async Kubernetes API client and informer machinery (reflector, informer, workqueue, leader election)."""
