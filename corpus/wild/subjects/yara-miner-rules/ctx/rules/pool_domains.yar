rule PUA_Mining_Pool_Domains : miner pool
{
   meta:
      description = "Public Monero pool host names embedded in a file"
      reference = "https://www.nextron-systems.com/2021/10/24/monero-mining-pool-fqdns/"
      score = 45
   strings:
      $p1 = "pool.supportxmr.com" ascii nocase
      $p2 = "gulf.moneroocean.stream" ascii nocase
      $p3 = "auto.c3pool.org" ascii nocase
      $p4 = "xmr.2miners.com" ascii nocase
      $p5 = "pool.hashvault.pro" ascii nocase
      $p6 = "nanopool.org" ascii nocase
      $p7 = "xmrpool.eu" ascii nocase
      $p8 = "monerohash.com" ascii nocase
      $p9 = "herominers.com" ascii nocase
      $p10 = "unmineable.com" ascii nocase
      $p11 = "nicehash.com" ascii nocase
   condition:
      filesize < 10MB and any of them
}
