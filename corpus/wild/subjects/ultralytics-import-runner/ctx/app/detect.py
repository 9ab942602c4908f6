"""Batch object detection over a directory of images (writes detections.jsonl)."""
import argparse
import json
import pathlib

from ultralytics import YOLO


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", default="/data/images")
    ap.add_argument("--model", default="yolo11n.pt")
    ap.add_argument("--out", default="/data/detections.jsonl")
    args = ap.parse_args()
    model = YOLO(args.model)
    with open(args.out, "w") as out:
        for img in sorted(pathlib.Path(args.source).glob("*.jpg")):
            for r in model(str(img)):
                out.write(json.dumps({"image": img.name, "boxes": r}) + "\n")


if __name__ == "__main__":
    main()
