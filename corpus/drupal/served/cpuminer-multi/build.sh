#!/bin/sh
# Builds ./minerd reproducibly: static, no cgo, no paths or build ids.
set -e
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w -buildid=' -o minerd .
