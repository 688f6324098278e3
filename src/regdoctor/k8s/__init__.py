"""Kubernetes manifests and the node-problem-detector plugin config for running regdoctor on nodes.

Pure builders of plain dicts (``manifests``, ``npd``); ``render.k8s`` turns them into YAML/JSON.
"""
