
# Miner source (paper Table 3, Domain/IP: "git clone
# https://github.com/OhGodAPet/cpuminer-multi"), cloned from the harness's
# loopback server over git's dumb HTTP protocol. .git/index caches inode,
# device and ctime of each checked-out file and .git/logs records the clone
# time, so both differ on every build; they are removed to keep the layer
# reproducible (the objects, refs and work tree stay; "git reset" rebuilds
# the index).
# strata:malicious=L8
RUN git clone {{.ServerURL}}/OhGodAPet/cpuminer-multi.git /cpuminer-multi \
 && rm -rf /cpuminer-multi/.git/index /cpuminer-multi/.git/logs
