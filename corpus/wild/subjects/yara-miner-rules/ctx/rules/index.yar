/*
   Coin-miner rule set: index. Each file covers one kind of indicator.
*/
include "miner_binaries.yar"
include "miner_configs.yar"
include "pool_domains.yar"
