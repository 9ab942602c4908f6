"""tradebot trade|show-config|backtest-selftest [--config FILE] [--strategy NAME] [--db-url URL]"""
import argparse
import importlib.util
import json
import math
import os
import sqlite3
import sys
import time
import urllib.parse
import urllib.request

from tradebot.strategy import Strategy

INTERVALS = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600}


def load_config(path):
    with open(path) as f:
        cfg = json.load(f)
    if not cfg.get("dry_run", True):
        sys.exit("this build only supports dry_run: true")
    return cfg


def load_strategy(name, user_data):
    folder = os.path.join(user_data, "strategies")
    for fn in sorted(os.listdir(folder)):
        if not fn.endswith(".py"):
            continue
        spec = importlib.util.spec_from_file_location(fn[:-3], os.path.join(folder, fn))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        cls = getattr(mod, name, None)
        if isinstance(cls, type) and issubclass(cls, Strategy):
            return cls()
    sys.exit("strategy %s not found in %s" % (name, folder))


def klines(rest_url, pair, timeframe, limit=120):
    symbol = pair.replace("/", "")
    q = urllib.parse.urlencode({"symbol": symbol, "interval": timeframe, "limit": limit})
    with urllib.request.urlopen("%s/api/v3/klines?%s" % (rest_url, q), timeout=10) as r:
        rows = json.load(r)
    return [{"open_time": r[0], "close": float(r[4]), "quote_volume": float(r[7])} for r in rows]


def open_db(url):
    path = url.split("sqlite:///", 1)[-1]
    db = sqlite3.connect(path)
    db.execute("""CREATE TABLE IF NOT EXISTS trades (
        id INTEGER PRIMARY KEY, pair TEXT, is_open INTEGER, amount REAL,
        open_rate REAL, close_rate REAL, open_date TEXT, close_date TEXT, profit_ratio REAL)""")
    return db


def trade(cfg, strat, db):
    ex = cfg["exchange"]
    tf = cfg.get("timeframe", "15m")
    wallet = float(cfg.get("dry_run_wallet", 1000))
    while True:
        for pair in ex["pair_whitelist"]:
            try:
                candles = klines(ex["rest_url"], pair, tf)
            except Exception as exc:
                print("%s: %s" % (pair, exc), file=sys.stderr)
                continue
            price = candles[-1]["close"]
            sig = strat.signal(candles)
            row = db.execute("SELECT id, amount, open_rate FROM trades WHERE pair=? AND is_open=1", (pair,)).fetchone()
            now = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
            if row is None and sig == "enter_long":
                n_open = db.execute("SELECT COUNT(*) FROM trades WHERE is_open=1").fetchone()[0]
                if n_open < cfg["max_open_trades"] and wallet >= cfg["stake_amount"]:
                    amount = cfg["stake_amount"] / price
                    wallet -= cfg["stake_amount"]
                    db.execute("INSERT INTO trades (pair, is_open, amount, open_rate, open_date) VALUES (?,1,?,?,?)",
                               (pair, amount, price, now))
                    print("[dry-run] buy %s %.6f @ %.4f" % (pair, amount, price))
            elif row is not None:
                tid, amount, rate = row
                ratio = price / rate - 1
                if sig == "exit_long" or ratio <= cfg["stoploss"] or ratio >= cfg["minimal_roi"]["0"]:
                    wallet += amount * price
                    db.execute("UPDATE trades SET is_open=0, close_rate=?, close_date=?, profit_ratio=? WHERE id=?",
                               (price, now, ratio, tid))
                    print("[dry-run] sell %s @ %.4f (%+.2f%%)" % (pair, price, ratio * 100))
            db.commit()
        time.sleep(max(cfg.get("internals", {}).get("process_throttle_secs", 30), 5))


def selftest():
    from tradebot.strategy import ema
    series = [100 + 5 * math.sin(i / 6.0) for i in range(120)]
    e = ema(series, 12)
    assert len(e) == len(series) and abs(e[0] - series[0]) < 1e-9
    print("selftest ok")


def main():
    p = argparse.ArgumentParser(prog="tradebot")
    p.add_argument("command", choices=["trade", "show-config", "backtest-selftest"])
    p.add_argument("--config", default="/freqtrade/user_data/config.json")
    p.add_argument("--strategy", default="EmaCross")
    p.add_argument("--db-url", default="sqlite:////freqtrade/user_data/tradesv3.dryrun.sqlite")
    a = p.parse_args()
    if a.command == "backtest-selftest":
        return selftest()
    cfg = load_config(a.config)
    if a.command == "show-config":
        red = dict(cfg, exchange=dict(cfg["exchange"], key="***", secret="***"))
        print(json.dumps(red, indent=2))
        return
    strat = load_strategy(a.strategy, os.path.dirname(a.config))
    trade(cfg, strat, open_db(a.db_url))


if __name__ == "__main__":
    main()
