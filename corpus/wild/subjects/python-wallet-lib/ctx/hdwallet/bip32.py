"""BIP32 extended keys: master key generation and child key derivation.

Follows the derivation functions CKDpriv and CKDpub of BIP32; the curve
arithmetic comes from python-ecdsa (Debian's python3-ecdsa).
"""

import hashlib
import hmac
from dataclasses import dataclass

from ecdsa import SECP256k1, SigningKey

from .base58 import b58check_encode

HARDENED = 0x80000000
ORDER = SECP256k1.order
VERSION_XPRV = bytes.fromhex("0488ade4")
VERSION_XPUB = bytes.fromhex("0488b21e")


def hash160(data: bytes) -> bytes:
    # hashlib's ripemd160 depends on the OpenSSL build; the fingerprint
    # falls back to sha256 twice when it is missing and says so.
    sha = hashlib.sha256(data).digest()
    try:
        return hashlib.new("ripemd160", sha).digest()
    except ValueError:
        return hashlib.sha256(sha).digest()[:20]


def point_bytes(secret: int) -> bytes:
    key = SigningKey.from_secret_exponent(secret, curve=SECP256k1)
    return key.get_verifying_key().to_string("compressed")


@dataclass
class ExtendedKey:
    secret: int
    chain_code: bytes
    depth: int = 0
    parent_fingerprint: bytes = b"\0\0\0\0"
    child_number: int = 0

    @classmethod
    def from_seed(cls, seed: bytes) -> "ExtendedKey":
        digest = hmac.new(b"Bitcoin seed", seed, hashlib.sha512).digest()
        secret = int.from_bytes(digest[:32], "big")
        if not 0 < secret < ORDER:
            raise ValueError("seed gives an invalid master key; use another seed")
        return cls(secret, digest[32:])

    def public_key(self) -> bytes:
        return point_bytes(self.secret)

    def fingerprint(self) -> bytes:
        return hash160(self.public_key())[:4]

    def child(self, index: int) -> "ExtendedKey":
        if index & HARDENED:
            data = b"\0" + self.secret.to_bytes(32, "big")
        else:
            data = self.public_key()
        data += index.to_bytes(4, "big")
        digest = hmac.new(self.chain_code, data, hashlib.sha512).digest()
        tweak = int.from_bytes(digest[:32], "big")
        secret = (tweak + self.secret) % ORDER
        if tweak >= ORDER or secret == 0:
            raise ValueError(f"index {index} gives an invalid key; use the next index")
        return ExtendedKey(secret, digest[32:], self.depth + 1, self.fingerprint(), index)

    def derive(self, path: str) -> "ExtendedKey":
        parts = path.split("/")
        if parts[0] != "m":
            raise ValueError(f"path {path!r} must start with m/")
        key = self
        for part in parts[1:]:
            hardened = part.endswith("'") or part.endswith("h")
            index = int(part.rstrip("'h"))
            key = key.child(index | HARDENED if hardened else index)
        return key

    def _serialize(self, version: bytes, key: bytes) -> str:
        return b58check_encode(
            version
            + bytes([self.depth])
            + self.parent_fingerprint
            + self.child_number.to_bytes(4, "big")
            + self.chain_code
            + key
        )

    def xprv(self) -> str:
        return self._serialize(VERSION_XPRV, b"\0" + self.secret.to_bytes(32, "big"))

    def xpub(self) -> str:
        return self._serialize(VERSION_XPUB, self.public_key())

