
# Miner binary (paper Table 3, Behavior: "ADD file:... in /bin/minerd",
# "chmod 755 /bin/minerd"): file addition and permission change in one layer.
# strata:malicious=L9
ADD --chmod=755 minerd /bin/minerd
