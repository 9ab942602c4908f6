"""Prometheus exporter for XMRig and T-Rex API statistics."""
__version__ = "0.4.2"
