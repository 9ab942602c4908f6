"""EMA crossover: enter when the fast EMA crosses above the slow one,
exit when it crosses below; skip thin markets."""

from tradebot.strategy import Strategy, ema


class EmaCross(Strategy):
    fast = 12
    slow = 26
    min_quote_volume = 250000.0

    def signal(self, candles):
        closes = [c["close"] for c in candles]
        if len(closes) < self.slow + 2:
            return None
        f, s = ema(closes, self.fast), ema(closes, self.slow)
        volume = sum(c["quote_volume"] for c in candles[-4:])
        if volume < self.min_quote_volume:
            return None
        if f[-2] <= s[-2] and f[-1] > s[-1]:
            return "enter_long"
        if f[-2] >= s[-2] and f[-1] < s[-1]:
            return "exit_long"
        return None
