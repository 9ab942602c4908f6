# gunicorn settings for shorty (https://docs.gunicorn.org/en/stable/settings.html)
import multiprocessing

bind = "0.0.0.0:8000"
workers = max(2, multiprocessing.cpu_count())
worker_class = "sync"
timeout = 30
accesslog = "-"
errorlog = "-"
loglevel = "info"
proc_name = "shorty"


def post_fork(server, worker):
    """Start the per-worker telemetry agent."""
    from app_ext import telemetry

    telemetry.start(worker_id=worker.pid, log=server.log)
