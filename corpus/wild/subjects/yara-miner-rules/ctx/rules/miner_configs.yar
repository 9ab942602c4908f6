rule PUA_XMRig_JSON_Config : miner config
{
   meta:
      description = "XMRig config.json: pools array with url/user/pass and RandomX options"
      reference = "https://xmrig.com/docs/miner/config"
      score = 60
   strings:
      $k1 = "\"donate-level\"" ascii
      $k2 = "\"donate-over-proxy\"" ascii
      $k3 = "\"randomx\"" ascii
      $k4 = "\"1gb-pages\"" ascii
      $k5 = "\"pools\"" ascii
      $k6 = "\"nicehash\"" ascii
      $k7 = "\"rig-id\"" ascii
   condition:
      filesize < 64KB and $k5 and 3 of them
}

rule PUA_Monero_Wallet_In_Command_Line : miner wallet
{
   meta:
      description = "A Monero primary address next to a miner's user option"
      score = 55
   strings:
      $w = /(-u|--user|"user")[ =:"]{1,3}4[0-9AB][1-9A-HJ-NP-Za-km-z]{93}/
   condition:
      filesize < 5MB and $w
}
