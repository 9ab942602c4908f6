$TTL 3600
@       IN SOA  ns1.example.com. hostmaster.example.com. (
                2024010101 ; serial
                7200       ; refresh
                900        ; retry
                1209600    ; expire
                300 )      ; negative TTL

        IN NS   ns1.example.com.
        IN NS   ns2.example.com.
        IN MX   10 mail.example.com.
        IN TXT  "v=spf1 mx -all"
        IN A    192.0.2.10

ns1     IN A    192.0.2.53
ns2     IN A    198.51.100.53
www     IN A    192.0.2.10
mail    IN A    192.0.2.25
vpn     IN A    192.0.2.40
api     IN CNAME www
_dmarc  IN TXT  "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com"
