# Buildbot worker configuration read from the environment, as in
# Buildbot's worker image (master/worker/docker/buildbot.tac).
import fnmatch
import os
import sys

from twisted.application import service
from twisted.python.log import FileLogObserver
from twisted.python.log import ILogObserver

from buildbot_worker.bot import Worker

basedir = "/buildbot"
application = service.Application("buildbot-worker")
application.setComponent(ILogObserver, FileLogObserver(sys.stdout).emit)

buildmaster_host = os.environ.get("BUILDMASTER", "localhost")
port = int(os.environ.get("BUILDMASTER_PORT", 9989))
workername = os.environ.get("WORKERNAME", "docker")
passwd = os.environ.get("WORKERPASS")
if passwd is None and os.environ.get("WORKERPASS_FILE"):
    with open(os.environ["WORKERPASS_FILE"]) as f:
        passwd = f.read().strip()
if not passwd:
    raise SystemExit("set WORKERPASS or WORKERPASS_FILE")

# Keep the password and Docker-specific variables out of build steps.
blacklist = os.environ.get("WORKER_ENVIRONMENT_BLACKLIST", "WORKERPASS").split()
for name in list(os.environ.keys()):
    if any(fnmatch.fnmatch(name, pattern) for pattern in blacklist):
        del os.environ[name]

keepalive = 600
umask = 0o022
maxdelay = 300
allow_shutdown = "file"
maxretries = 10
delete_leftover_dirs = False

s = Worker(
    buildmaster_host,
    port,
    workername,
    passwd,
    basedir,
    keepalive,
    umask=umask,
    maxdelay=maxdelay,
    allow_shutdown=allow_shutdown,
    maxRetries=maxretries,
    delete_leftover_dirs=delete_leftover_dirs,
)
s.setServiceParent(application)
