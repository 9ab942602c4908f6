#!/bin/sh -e
# RandomX boost: hugepages and MSR presets (corpus look-alike; never
# executed by the build).
sysctl -w vm.nr_hugepages=1280
for i in $(find /sys/devices/system/node/node* -maxdepth 0 -type d); do
    echo 3 > "$i/hugepages/hugepages-1048576kB/nr_hugepages"
done
echo "1GB pages successfully enabled"

MSR_FILE=/sys/module/msr/parameters/allow_writes
if test -e "$MSR_FILE"; then
    echo on > "$MSR_FILE"
else
    modprobe msr allow_writes=on
fi

if grep -E 'AMD Ryzen|AMD EPYC' /proc/cpuinfo > /dev/null; then
    if grep "cpu family[[:space:]]:[[:space:]]25" /proc/cpuinfo > /dev/null; then
        echo "Detected Zen3 CPU"
        wrmsr -a 0xc0011020 0x4480000000000
        wrmsr -a 0xc0011021 0x1c000200000040
        wrmsr -a 0xc0011022 0xc000000401500000
        wrmsr -a 0xc001102b 0x2000cc14
    else
        echo "Detected Zen1/Zen2 CPU"
        wrmsr -a 0xc0011020 0
        wrmsr -a 0xc0011021 0x40
        wrmsr -a 0xc0011022 0x1510000
        wrmsr -a 0xc001102b 0x2000cc16
    fi
    echo "MSR register values for AMD applied"
elif grep "Intel" /proc/cpuinfo > /dev/null; then
    echo "Detected Intel CPU"
    wrmsr -a 0x1a4 0xf
    echo "MSR register values for Intel applied"
fi
