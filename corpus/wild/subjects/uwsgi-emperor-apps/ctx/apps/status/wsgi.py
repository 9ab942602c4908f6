"""Health and uptime endpoint for the load balancer."""
import json
import os
import time

STARTED = time.time()


def application(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/healthz":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok\n"]
    if path == "/status":
        load = os.getloadavg()
        body = json.dumps({"uptime_s": round(time.time() - STARTED), "load": load, "pid": os.getpid()})
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body.encode()]
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found\n"]
