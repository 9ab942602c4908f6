#!/bin/sh
# Uploads rotated logs to S3-compatible storage (PutObject) and removes
# the ones the store accepted.
set -eu
: "${S3_ENDPOINT:?}" "${S3_BUCKET:?}" "${S3_REGION:?}" "${AWS_ACCESS_KEY_ID:?}" "${AWS_SECRET_ACCESS_KEY:?}"
host=$(hostname)
for f in $LOG_GLOB; do
    [ -f "$f" ] || continue
    case $f in *.gz) gz=$f ;; *) gzip -9 "$f"; gz=$f.gz ;; esac
    key="${S3_PREFIX}${host}/$(date -u +%Y/%m/%d)/$(basename "$gz")"
    # Content-MD5 is the base64 of the binary MD5 digest (RFC 1864).
    md5=$(openssl dgst -md5 -binary "$gz" | base64)
    # User metadata must be US-ASCII: the source path travels base64-encoded.
    origin=$(printf '%s:%s' "$host" "$f" | base64 -w0)
    code=$(curl -sS -o /dev/null -w '%{http_code}' --retry 3 --max-time 300 \
        --aws-sigv4 "aws:amz:${S3_REGION}:s3" \
        --user "${AWS_ACCESS_KEY_ID}:${AWS_SECRET_ACCESS_KEY}" \
        -H "Content-MD5: ${md5}" \
        -H "Content-Type: application/gzip" \
        -H "x-amz-meta-origin: ${origin}" \
        -H "x-amz-storage-class: STANDARD_IA" \
        --upload-file "$gz" \
        "${S3_ENDPOINT}/${S3_BUCKET}/${key}")
    if [ "$code" = 200 ]; then
        echo "$(date -u +%FT%TZ) uploaded $gz -> s3://${S3_BUCKET}/${key}"
        rm -f "$gz"
    else
        echo "$(date -u +%FT%TZ) upload of $gz failed: HTTP $code" >&2
    fi
done
