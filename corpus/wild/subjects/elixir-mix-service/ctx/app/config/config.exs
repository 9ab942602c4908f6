import Config

config :logger, :console,
  format: "$time $metadata[$level] $message\n",
  metadata: [:worker]

config :ledger_sync,
  health_port: String.to_integer(System.get_env("HEALTH_PORT", "4000")),
  interval_ms: String.to_integer(System.get_env("SYNC_INTERVAL_MS", "30000")),
  spool_dir: System.get_env("SPOOL_DIR", "/app/spool")
