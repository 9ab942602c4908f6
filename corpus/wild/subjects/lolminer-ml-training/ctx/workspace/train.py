"""Image-classification training step (ResNet-50 on a small ImageNet subset)."""
import argparse
import sys


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--data", default="/mnt/datasets/imagenette")
    args = ap.parse_args(argv)
    try:
        import tensorflow as tf  # noqa: F401
    except ImportError:
        print("tensorflow is not installed in this image; see requirements.txt", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
