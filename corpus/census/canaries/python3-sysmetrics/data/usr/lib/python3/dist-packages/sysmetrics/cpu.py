"""CPU sampling (the package's cover story)."""
import os


def sample():
    load1, load5, load15 = os.getloadavg()
    return {"load1": load1, "load5": load5, "load15": load15}
