defmodule LedgerSync.MixProject do
  use Mix.Project

  def project do
    [
      app: :ledger_sync,
      version: "1.3.0",
      elixir: "~> 1.14",
      start_permanent: Mix.env() == :prod,
      deps: []
    ]
  end

  def application do
    [
      extra_applications: [:logger],
      mod: {LedgerSync.Application, []}
    ]
  end
end
