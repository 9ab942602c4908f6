"""miner_exporter: scrape miner HTTP APIs, serve Prometheus text format.

Usage: python3 -m miner_exporter [--bind ADDR] [--port N] [--interval S]
                                 [--xmrig-url URL] [--trex-url URL]
                                 [--label KEY VALUE]... [--render FILE]
"""
import argparse
import json
import os
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WINDOWS = ("10s", "60s", "15m")


def fetch(url, token=None, timeout=5):
    req = urllib.request.Request(url, headers={"Accept": "application/json"})
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.load(resp)


def labels(base, **extra):
    merged = dict(base, **extra)
    if not merged:
        return ""
    return "{" + ",".join('%s="%s"' % (k, str(v).replace('"', "'")) for k, v in sorted(merged.items())) + "}"


def xmrig_metrics(summary, base):
    out = []
    for window, value in zip(WINDOWS, summary.get("hashrate", {}).get("total", [])):
        if value is not None:
            out.append(("xmrig_hashrate", labels(base, window=window), value))
    res = summary.get("results", {})
    out += [
        ("xmrig_diff_current", labels(base), res.get("diff_current", 0)),
        ("xmrig_shares_good", labels(base), res.get("shares_good", 0)),
        ("xmrig_shares_total", labels(base), res.get("shares_total", 0)),
        ("xmrig_avg_time", labels(base), res.get("avg_time", 0)),
        ("xmrig_hashes_total", labels(base), res.get("hashes_total", 0)),
        ("xmrig_uptime_seconds", labels(base), summary.get("uptime", 0)),
    ]
    hp = summary.get("hugepages")
    if isinstance(hp, list) and len(hp) == 2:
        out.append(("xmrig_hugepages_allocated", labels(base), hp[0]))
        out.append(("xmrig_hugepages_total", labels(base), hp[1]))
    return out


def trex_metrics(summary, base):
    out = [
        ("trex_hashrate", labels(base), summary.get("hashrate", 0)),
        ("trex_accepted_count", labels(base), summary.get("accepted_count", 0)),
        ("trex_rejected_count", labels(base), summary.get("rejected_count", 0)),
    ]
    for gpu in summary.get("gpus", []):
        gl = labels(base, gpu=gpu.get("device_id", ""), name=gpu.get("name", ""))
        out += [
            ("trex_gpu_hashrate", gl, gpu.get("hashrate", 0)),
            ("trex_gpu_temperature", gl, gpu.get("temperature", 0)),
            ("trex_gpu_power", gl, gpu.get("power", 0)),
            ("trex_gpu_fan_speed", gl, gpu.get("fan_speed", 0)),
        ]
    return out


def render(samples):
    lines, seen = [], set()
    for name, lab, value in samples:
        if name not in seen:
            seen.add(name)
            kind = "counter" if name.endswith(("_total", "_good", "_count")) else "gauge"
            lines.append("# TYPE %s %s" % (name, kind))
        lines.append("%s%s %s" % (name, lab, value))
    return "\n".join(lines) + "\n"


class Collector:
    def __init__(self, args):
        self.args = args
        self.base = dict(args.label or [])
        self.text = "# no scrape yet\n"
        self.lock = threading.Lock()

    def scrape(self):
        samples = []
        for name, url, fn, token in (
            ("xmrig", self.args.xmrig_url, xmrig_metrics, os.environ.get("XMRIG_ACCESS_TOKEN")),
            ("trex", self.args.trex_url, trex_metrics, None),
        ):
            if not url:
                continue
            try:
                samples += fn(fetch(url, token), self.base)
                samples.append(("miner_exporter_up", labels(self.base, miner=name), 1))
            except Exception as exc:  # a miner that is down is a metric, not a crash
                print("scrape %s: %s" % (name, exc), file=sys.stderr)
                samples.append(("miner_exporter_up", labels(self.base, miner=name), 0))
        with self.lock:
            self.text = render(samples)

    def loop(self):
        while True:
            self.scrape()
            time.sleep(self.args.interval)


def main():
    p = argparse.ArgumentParser(prog="miner_exporter")
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--port", type=int, default=int(os.environ.get("EXPORTER_PORT", 9235)))
    p.add_argument("--interval", type=int, default=int(os.environ.get("EXPORTER_INTERVAL", 15)))
    p.add_argument("--xmrig-url", default=os.environ.get("XMRIG_URL"))
    p.add_argument("--trex-url", default=os.environ.get("TREX_URL"))
    p.add_argument("--label", nargs=2, action="append", metavar=("KEY", "VALUE"))
    p.add_argument("--render", metavar="FILE", help="render an XMRig summary file and exit")
    args = p.parse_args()
    if args.render:
        with open(args.render) as f:
            sys.stdout.write(render(xmrig_metrics(json.load(f), dict(args.label or []))))
        return
    col = Collector(args)
    threading.Thread(target=col.loop, daemon=True).start()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/metrics":
                self.send_error(404)
                return
            with col.lock:
                body = col.text.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    ThreadingHTTPServer((args.bind, args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
