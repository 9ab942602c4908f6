"""Report worker."""
