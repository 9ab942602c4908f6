"""shorty: a tiny URL shortener (Flask + sqlite3)."""
import os
import secrets
import sqlite3

from flask import Flask, abort, redirect, render_template, request

app = Flask(__name__)
DB = os.environ.get("SHORTY_DB", "/var/lib/shorty/links.db")


def db():
    conn = sqlite3.connect(DB)
    conn.execute("CREATE TABLE IF NOT EXISTS links (code TEXT PRIMARY KEY, url TEXT NOT NULL)")
    return conn


@app.get("/")
def index():
    return render_template("index.html")


@app.post("/shorten")
def shorten():
    url = request.form.get("url", "")
    if not url.startswith(("http://", "https://")):
        abort(400)
    code = secrets.token_urlsafe(5)
    with db() as conn:
        conn.execute("INSERT INTO links VALUES (?, ?)", (code, url))
    return {"code": code, "short": request.host_url + code}


@app.get("/<code>")
def follow(code):
    row = db().execute("SELECT url FROM links WHERE code = ?", (code,)).fetchone()
    if not row:
        abort(404)
    return redirect(row[0], 302)


@app.get("/healthz")
def healthz():
    return "ok\n"
