"""A tiny notes API: GET /notes lists, POST /notes adds (text body)."""
import json
import os
import sqlite3
import time

DB = os.environ.get("NOTES_DB", "/var/lib/notes/notes.sqlite3")


def _db():
    conn = sqlite3.connect(DB)
    conn.execute("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, created REAL, body TEXT)")
    return conn


def application(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    method = environ.get("REQUEST_METHOD", "GET")
    if path == "/notes" and method == "GET":
        with _db() as conn:
            rows = conn.execute("SELECT id, created, body FROM notes ORDER BY id DESC LIMIT 100").fetchall()
        body = json.dumps([{"id": r[0], "created": r[1], "body": r[2]} for r in rows]).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]
    if path == "/notes" and method == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        text = environ["wsgi.input"].read(min(length, 4096)).decode("utf-8", "replace").strip()
        if not text:
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"empty note\n"]
        with _db() as conn:
            cur = conn.execute("INSERT INTO notes (created, body) VALUES (?, ?)", (time.time(), text))
        start_response("201 Created", [("Content-Type", "application/json")])
        return [json.dumps({"id": cur.lastrowid}).encode()]
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found\n"]
