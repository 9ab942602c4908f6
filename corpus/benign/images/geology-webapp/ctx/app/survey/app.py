"""HTTP front end: borehole logs and mining lease summaries."""
import json
import os

from flask import Flask, abort, jsonify, render_template

from .mining import lease_summary
from .stratum import Stratum, check_log

app = Flask(__name__)
DATA = os.environ.get("SURVEY_DATA", "/srv/survey/data")


def load(name):
    try:
        with open(os.path.join(DATA, name + ".json")) as f:
            return json.load(f)
    except FileNotFoundError:
        abort(404)


@app.route("/healthz")
def healthz():
    return "ok\n"


@app.route("/boreholes/<bh>")
def borehole(bh):
    strata = check_log([Stratum(**s) for s in load("bh-" + bh)["strata"]])
    return render_template("borehole.html", bh=bh, strata=strata)


@app.route("/api/leases/<lease>")
def lease(lease):
    data = load("lease-" + lease)
    data["strata"] = [Stratum(**s) for s in data["strata"]]
    return jsonify(lease_summary(data))
