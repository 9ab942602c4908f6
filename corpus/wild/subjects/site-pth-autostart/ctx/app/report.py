"""Summarise the CSV files dropped into /data/in into /data/out/summary.txt."""
import csv
import glob
import os

rows = 0
for path in sorted(glob.glob("/data/in/*.csv")):
    with open(path, newline="") as f:
        rows += sum(1 for _ in csv.reader(f))
os.makedirs("/data/out", exist_ok=True)
with open("/data/out/summary.txt", "w") as f:
    f.write(f"rows={rows}\n")
print(f"rows={rows}")
