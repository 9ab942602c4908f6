#!/usr/bin/env python3
"""Sign and verify release artifacts.

Ed25519 signatures with PyNaCl (libsodium), ECDSA P-256 with
python-cryptography (OpenSSL) and secp256k1 with python-ecdsa, so a release
can be checked with whichever library a downstream project already has.
"""
import argparse
import hashlib
import pathlib
import sys

import ecdsa
import nacl.encoding
import nacl.signing
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.digest()


def keygen(out):
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sk = nacl.signing.SigningKey.generate()
    (out / "ed25519.key").write_bytes(sk.encode(nacl.encoding.HexEncoder))
    (out / "ed25519.pub").write_bytes(sk.verify_key.encode(nacl.encoding.HexEncoder))
    p256 = ec.generate_private_key(ec.SECP256R1())
    (out / "p256.pem").write_bytes(p256.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    k1 = ecdsa.SigningKey.generate(curve=ecdsa.SECP256k1)
    (out / "secp256k1.pem").write_bytes(k1.to_pem())


def sign(keys, artifact):
    keys = pathlib.Path(keys)
    digest = sha256_file(artifact)
    sk = nacl.signing.SigningKey(keys.joinpath("ed25519.key").read_bytes(), nacl.encoding.HexEncoder)
    sig = sk.sign(digest).signature
    pathlib.Path(artifact + ".ed25519.sig").write_bytes(nacl.encoding.HexEncoder.encode(sig))
    p256 = serialization.load_pem_private_key(keys.joinpath("p256.pem").read_bytes(), password=None)
    pathlib.Path(artifact + ".p256.sig").write_bytes(p256.sign(digest, ec.ECDSA(hashes.SHA256())))
    k1 = ecdsa.SigningKey.from_pem(keys.joinpath("secp256k1.pem").read_bytes())
    pathlib.Path(artifact + ".secp256k1.sig").write_bytes(k1.sign_digest(digest))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("keygen")
    g.add_argument("out")
    s = sub.add_parser("sign")
    s.add_argument("keys")
    s.add_argument("artifact")
    a = ap.parse_args(argv)
    if a.cmd == "keygen":
        keygen(a.out)
    else:
        sign(a.keys, a.artifact)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
