"""Command line: python3 -m hdwallet derive --seed HEX --path m/0'/1."""

import argparse
import sys

from .bip32 import ExtendedKey


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="hdwallet")
    sub = parser.add_subparsers(dest="cmd", required=True)
    derive = sub.add_parser("derive", help="derive an extended key from a seed")
    derive.add_argument("--seed", required=True, help="seed as hex (BIP39 seeds are 64 bytes)")
    derive.add_argument("--path", default="m", help="derivation path, e.g. m/44'/0'/0'/0/0")
    derive.add_argument("--public", action="store_true", help="print only the xpub")
    args = parser.parse_args(argv)

    key = ExtendedKey.from_seed(bytes.fromhex(args.seed)).derive(args.path)
    print(f"path  {args.path}")
    print(f"xpub  {key.xpub()}")
    if not args.public:
        print(f"xprv  {key.xprv()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
