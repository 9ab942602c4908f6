"""Celery application: broker and result backend from the environment."""

import os

from celery import Celery

app = Celery(
    "proj",
    broker=os.environ.get("CELERY_BROKER_URL", "amqp://guest:guest@localhost:5672//"),
    backend=os.environ.get("CELERY_RESULT_BACKEND", "rpc://"),
    include=["proj.tasks"],
)

app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    result_serializer="json",
    result_expires=3600,
    timezone="UTC",
    enable_utc=True,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_max_tasks_per_child=500,
    task_default_queue="default",
    task_routes={"proj.tasks.send_welcome_email": {"queue": "emails"}},
    broker_connection_retry_on_startup=True,
)

if __name__ == "__main__":
    app.start()
