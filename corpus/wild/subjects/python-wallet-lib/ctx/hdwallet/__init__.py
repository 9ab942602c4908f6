"""Hierarchical deterministic wallet keys (BIP32) on python-ecdsa."""

__version__ = "0.4.1"
