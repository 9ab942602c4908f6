#!/bin/sh
# Reserve huge pages, mount hugetlbfs and bind NICs for DPDK.
set -eu
status=/run/dpdk-prep/status
mkdir -p "$(dirname "$status")"

echo "== huge pages before"
dpdk-hugepages.py --show || true

if [ -w /proc/sys/vm ]; then
    sysctl -q -p /etc/sysctl.d/80-dpdk.conf || true
fi

# dpdk-hugepages.py -p 2M --setup 2G: clear, reserve and mount in one go.
dpdk-hugepages.py --pagesize "$HUGEPAGE_SIZE" --setup "$HUGEPAGE_TOTAL" \
    --directory "$HUGEPAGE_MOUNT"

free_pages=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
if [ "${free_pages:-0}" -eq 0 ]; then
    echo "no free huge pages after setup" >&2
    exit 1
fi

if [ -n "$DPDK_PCI_DEVICES" ]; then
    modprobe "$DPDK_DRIVER" 2>/dev/null || true
    for dev in $DPDK_PCI_DEVICES; do
        dpdk-devbind.py --force --bind="$DPDK_DRIVER" "$dev"
    done
fi

echo "== after"
dpdk-hugepages.py --show
dpdk-devbind.py --status-dev net

{
    echo "hugepages_free=$free_pages"
    echo "hugepage_size=$HUGEPAGE_SIZE"
    echo "mount=$HUGEPAGE_MOUNT"
    echo "bound=$DPDK_PCI_DEVICES"
} > "$status"
echo "node ready for DPDK"
