defmodule LedgerSync.Worker do
  @moduledoc "Every interval, folds new CSV batches from the spool into a running ledger."
  use GenServer
  require Logger

  def start_link(interval), do: GenServer.start_link(__MODULE__, interval, name: __MODULE__)

  @impl true
  def init(interval) do
    Logger.metadata(worker: :sync)
    File.mkdir_p!(spool())
    schedule(interval)
    {:ok, %{interval: interval, totals: %{}, batches: 0}}
  end

  @impl true
  def handle_info(:tick, state) do
    state =
      spool()
      |> Path.join("*.csv")
      |> Path.wildcard()
      |> Enum.reduce(state, &ingest/2)

    schedule(state.interval)
    {:noreply, state}
  end

  defp ingest(file, state) do
    totals =
      file
      |> File.stream!()
      |> Stream.map(&String.trim/1)
      |> Stream.reject(&(&1 == ""))
      |> Stream.map(&String.split(&1, ","))
      |> Enum.reduce(state.totals, fn [account, cents | _], acc ->
        Map.update(acc, account, String.to_integer(cents), &(&1 + String.to_integer(cents)))
      end)

    File.rename!(file, file <> ".done")
    Logger.info("ingested #{Path.basename(file)}; #{map_size(totals)} accounts")
    %{state | totals: totals, batches: state.batches + 1}
  end

  defp spool, do: Application.fetch_env!(:ledger_sync, :spool_dir)
  defp schedule(ms), do: Process.send_after(self(), :tick, ms)
end
