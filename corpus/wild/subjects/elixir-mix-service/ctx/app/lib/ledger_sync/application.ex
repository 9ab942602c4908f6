defmodule LedgerSync.Application do
  @moduledoc false
  use Application

  @impl true
  def start(_type, _args) do
    children = [
      {LedgerSync.Health, Application.fetch_env!(:ledger_sync, :health_port)},
      {LedgerSync.Worker, Application.fetch_env!(:ledger_sync, :interval_ms)}
    ]

    Supervisor.start_link(children, strategy: :one_for_one, name: LedgerSync.Supervisor)
  end
end
