rule PUA_Linux_XMRig_Usage_Text : miner xmrig
{
   meta:
      description = "Usage text and console banners of XMRig and its forks"
      reference = "https://xmrig.com/docs/miner/command-line-options"
      score = 70
   strings:
      $u1 = "-o, --url=URL                 URL of mining server" ascii
      $u2 = "-u, --user=USERNAME           username for mining server" ascii
      $u3 = "--donate-level=N              donate level, default 1%" ascii
      $u4 = "--randomx-1gb-pages" ascii
      $b1 = " * POOL #1      " ascii
      $b2 = "[%s] new job from %s diff %" ascii
      $b3 = "speed 10s/60s/15m" ascii
   condition:
      uint32(0) == 0x464c457f and filesize < 15MB and 2 of them
}

rule PUA_Linux_CPUMiner_Strings : miner cpuminer
{
   meta:
      description = "cpuminer family (pooler, tpruvot multi) strings"
      reference = "https://github.com/pooler/cpuminer"
      score = 60
   strings:
      $s1 = "User-Agent: cpuminer/" ascii
      $s2 = "Stratum requested work restart" ascii
      $s3 = "thread %d: %lu hashes, %s khash/s" ascii
      $s4 = "-a, --algo=ALGO       specify the algorithm to use" ascii
   condition:
      filesize < 5MB and 2 of them
}

rule PUA_Miner_Stratum_Protocol : miner stratum
{
   meta:
      description = "Stratum JSON-RPC method names in an executable or script"
      score = 50
   strings:
      $m1 = "\"method\":\"login\"" ascii
      $m2 = "\"method\": \"login\"" ascii
      $m3 = "mining.subscribe" ascii
      $m4 = "mining.authorize" ascii
      $m5 = "mining.submit" ascii
      $m6 = "\"method\":\"submit\"" ascii
      $url = /stratum\+(tcp|ssl|tls):\/\/[a-z0-9.\-]+:[0-9]{2,5}/
   condition:
      filesize < 10MB and ($url or 2 of ($m*))
}
