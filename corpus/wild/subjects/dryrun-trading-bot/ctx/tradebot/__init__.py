"""A small dry-run trading engine with freqtrade-style configuration."""
__version__ = "0.3.1"
