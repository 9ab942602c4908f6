/* hashcheck: print a file's BLAKE2b (libsodium) and SHA-256 (OpenSSL). */
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>

int main(int argc, char **argv) {
    if (argc != 2 || sodium_init() < 0) {
        fprintf(stderr, "usage: hashcheck FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 1; }
    crypto_generichash_state b2;
    crypto_generichash_init(&b2, NULL, 0, crypto_generichash_BYTES);
    EVP_MD_CTX *sha = EVP_MD_CTX_new();
    EVP_DigestInit_ex(sha, EVP_sha256(), NULL);
    unsigned char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        crypto_generichash_update(&b2, buf, n);
        EVP_DigestUpdate(sha, buf, n);
    }
    fclose(f);
    unsigned char out[crypto_generichash_BYTES], md[EVP_MAX_MD_SIZE];
    unsigned int mdlen;
    crypto_generichash_final(&b2, out, sizeof out);
    EVP_DigestFinal_ex(sha, md, &mdlen);
    EVP_MD_CTX_free(sha);
    printf("blake2b ");
    for (size_t i = 0; i < sizeof out; i++) printf("%02x", out[i]);
    printf("\nsha256  ");
    for (unsigned int i = 0; i < mdlen; i++) printf("%02x", md[i]);
    printf("\n");
    return 0;
}
