"""Borehole and outcrop survey records."""
