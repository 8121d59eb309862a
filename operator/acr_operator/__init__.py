"""Kubernetes operator for Azure Container Registry (Microsoft.ContainerRegistry)."""

API_GROUP = "acr-operator.dev"
API_VERSION = "v1alpha1"
ARM_API_VERSION = "2025-06-01-preview"
ARM_PROVIDER = "Microsoft.ContainerRegistry"

__version__ = "0.1.0"
