#!/usr/bin/python3
"""paperwallet: BIP-39 mnemonic and seed for an offline paper backup.

paperwallet [--words 12|15|18|21|24] [--passphrase-file F] [--out DIR]
paperwallet --check-vectors FILE
"""
import argparse
import binascii
import os
import socket
import subprocess
import sys

from mnemonic import Mnemonic

STRENGTH = {12: 128, 15: 160, 18: 192, 21: 224, 24: 256}


def online():
    """True if any non-loopback interface is up: refuse to run then."""
    try:
        names = os.listdir("/sys/class/net")
    except OSError:
        return False
    for n in names:
        if n == "lo":
            continue
        try:
            with open("/sys/class/net/%s/operstate" % n) as f:
                if f.read().strip() == "up":
                    return True
        except OSError:
            pass
    return False


def check_vectors(path):
    m = Mnemonic("english")
    n = 0
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        ent, words, pw, seed = line.strip().split("|")
        assert m.to_mnemonic(binascii.unhexlify(ent)) == words, "mnemonic mismatch"
        assert m.check(words), "checksum"
        assert binascii.hexlify(Mnemonic.to_seed(words, passphrase=pw)).decode() == seed, "seed mismatch"
        n += 1
    print("%d BIP-39 vector(s) ok" % n)


def qr(text, path):
    subprocess.run(["qrencode", "-t", "SVG", "-l", "M", "-o", path, text], check=True)


def main():
    p = argparse.ArgumentParser(prog="paperwallet")
    p.add_argument("--words", type=int, default=24, choices=sorted(STRENGTH))
    p.add_argument("--passphrase-file")
    p.add_argument("--out", default=".")
    p.add_argument("--check-vectors")
    p.add_argument("--allow-network", action="store_true")
    a = p.parse_args()
    if a.check_vectors:
        return check_vectors(a.check_vectors)
    if online() and not a.allow_network:
        sys.exit("a network interface is up: run with --network none (or --allow-network)")
    m = Mnemonic("english")
    words = m.to_mnemonic(os.urandom(STRENGTH[a.words] // 8))
    pw = open(a.passphrase_file).read().rstrip("\n") if a.passphrase_file else ""
    seed = Mnemonic.to_seed(words, passphrase=pw)
    os.umask(0o077)
    with open(os.path.join(a.out, "mnemonic.txt"), "w") as f:
        for i, w in enumerate(words.split(), 1):
            f.write("%2d. %s\n" % (i, w))
    qr(words, os.path.join(a.out, "mnemonic-qr.svg"))
    with open(os.path.join(a.out, "seed-fingerprint.txt"), "w") as f:
        f.write("host %s, seed sha-prefix %s\n" % (socket.gethostname(), binascii.hexlify(seed[:4]).decode()))
    print("wrote %d words to %s (passphrase %s)" % (a.words, a.out, "set" if pw else "empty"))


if __name__ == "__main__":
    main()
