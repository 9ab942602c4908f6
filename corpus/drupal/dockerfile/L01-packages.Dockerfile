
# Apache with mod_php, PHP extensions and tools, installed from Debian
# packages in the build context (fetched on the host at corpus-prep time, so
# the build needs no network). dpkg and debconf logs, backups and caches carry
# the build time and are removed so that the layer is reproducible.
RUN --mount=type=bind,source=debs,target=/tmp/debs \
    set -eu; \
    DEBIAN_FRONTEND=noninteractive dpkg -i /tmp/debs/*.deb; \
    rm -rf /var/log/dpkg.log /var/log/alternatives.log /var/log/apt \
        /var/lib/dpkg/*-old /var/cache/debconf/*-old \
        /var/cache/ldconfig/aux-cache /var/cache/fontconfig/*
