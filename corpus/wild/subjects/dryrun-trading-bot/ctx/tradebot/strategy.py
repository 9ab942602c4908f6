class Strategy:
    """Base class: signal(candles) returns enter_long, exit_long or None."""

    def signal(self, candles):
        raise NotImplementedError


def ema(values, period):
    k = 2.0 / (period + 1)
    out = [values[0]]
    for v in values[1:]:
        out.append(v * k + out[-1] * (1 - k))
    return out
