#!/bin/sh
# Makes thumbnails of every file closed after writing in $IN_DIR.
set -eu
make_thumbs() {
    src=$1
    base=$(basename "${src%.*}")
    for size in $THUMB_SIZES; do
        convert "$src[0]" -auto-orient -thumbnail "${size}^" -gravity center \
            -extent "$size" -strip -quality 82 "$OUT_DIR/${base}_${size}.jpg"
        convert "$OUT_DIR/${base}_${size}.jpg" -quality 80 "$OUT_DIR/${base}_${size}.webp"
    done
    echo "$(date -u +%FT%TZ) thumbnails for $(basename "$src")"
}
# Files that arrived while the worker was down.
for f in "$IN_DIR"/*; do
    [ -f "$f" ] || continue
    ls "$OUT_DIR/$(basename "${f%.*}")"_* >/dev/null 2>&1 || make_thumbs "$f" || true
done
inotifywait -m -q -e close_write -e moved_to --format '%w%f' "$IN_DIR" | while read -r f; do
    case $f in
        *.jpg|*.jpeg|*.JPG|*.png|*.PNG|*.gif|*.webp|*.heic|*.tif|*.tiff)
            make_thumbs "$f" || echo "failed: $f" >&2 ;;
    esac
done
