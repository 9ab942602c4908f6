#!/bin/sh
set -e
template_dir="${NGINX_ENVSUBST_TEMPLATE_DIR:-/etc/nginx/templates}"
output_dir="${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}"
[ -d "$template_dir" ] || exit 0
for template in "$template_dir"/*.template; do
    [ -f "$template" ] || continue
    out="$output_dir/$(basename "$template" .template)"
    echo "$0: Running substitution on $template to $out"
    while IFS= read -r line; do eval "printf '%s\n' \"$line\""; done < "$template" > "$out"
done
