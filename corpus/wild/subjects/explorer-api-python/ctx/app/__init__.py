"""Read-only block explorer API over Bitcoin Core's JSON-RPC."""
