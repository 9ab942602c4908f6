# Turns openssl speed -mr output into a JSON object:
#   +F:<n>:<name>:<bytes/s for each block size>...   (ciphers, digests)
#   +F2:<n>:<bits>:<sign/s>:<verify/s>                (RSA)
#   +F4:<n>:<bits>:<sign/s>:<verify/s>                (ECDSA)
#   +F5:<n>:<bits>:<op/s>                             (ECDH)
BEGIN { FS = ":"; printf "{"; sep = "" }
$1 == "+F" {
    printf "%s\"%s\":{\"bytes_per_s_16k\":%s}", sep, $3, $NF; sep = ","
}
$1 == "+F2" { printf "%s\"rsa%s\":{\"sign_per_s\":%s,\"verify_per_s\":%s}", sep, $3, $4, $5; sep = "," }
$1 == "+F4" { printf "%s\"ecdsa%s\":{\"sign_per_s\":%s,\"verify_per_s\":%s}", sep, $3, $4, $5; sep = "," }
$1 == "+F5" { printf "%s\"ecdh%s\":{\"op_per_s\":%s}", sep, $3, $4; sep = "," }
END { printf "}" }
