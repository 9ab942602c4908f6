/* secp-tool: BIP-340 Schnorr and ECDSA signing with libsecp256k1.
 *
 *   secp-tool keygen                      new secret key and x-only pubkey
 *   secp-tool pubkey SECKEY               x-only public key of SECKEY
 *   secp-tool sign SECKEY MSG32 [AUX32]   BIP-340 signature (hex)
 *   secp-tool verify PUBX MSG32 SIG64     exit 0 if valid
 *   secp-tool ecdsa SECKEY DIGEST32       compact ECDSA signature (hex)
 *   secp-tool selftest                    sign/verify round trip
 */
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static int unhex(const char *s, unsigned char *out, size_t n) {
    if (strlen(s) != 2 * n) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2X", &v) != 1 && sscanf(s + 2 * i, "%2x", &v) != 1) return 0;
        out[i] = (unsigned char)v;
    }
    return 1;
}

static void hexout(const unsigned char *b, size_t n) {
    for (size_t i = 0; i < n; i++) printf("%02X", b[i]);
    printf("\n");
}

static int usage(void) {
    fprintf(stderr,
            "usage: secp-tool keygen | pubkey SECKEY | sign SECKEY MSG32 [AUX32] |\n"
            "       verify PUBX MSG32 SIG64 | ecdsa SECKEY DIGEST32 | selftest\n");
    return 2;
}

static int keypair(secp256k1_context *ctx, const char *hex, secp256k1_keypair *kp) {
    unsigned char sk[32];
    if (!unhex(hex, sk, 32) || !secp256k1_keypair_create(ctx, kp, sk)) {
        fprintf(stderr, "invalid secret key\n");
        return 0;
    }
    return 1;
}

static int xonly(secp256k1_context *ctx, const secp256k1_keypair *kp, unsigned char out[32]) {
    secp256k1_xonly_pubkey pk;
    return secp256k1_keypair_xonly_pub(ctx, &pk, NULL, kp) &&
           secp256k1_xonly_pubkey_serialize(ctx, out, &pk);
}

int main(int argc, char **argv) {
    if (argc < 2) return usage();
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    unsigned char seed[32];
    if (getrandom(seed, sizeof seed, 0) != sizeof seed || !secp256k1_context_randomize(ctx, seed)) {
        fprintf(stderr, "cannot randomize context\n");
        return 1;
    }
    const char *cmd = argv[1];
    secp256k1_keypair kp;
    unsigned char msg[32], aux[32], sig[64], pub[32];

    if (strcmp(cmd, "keygen") == 0) {
        unsigned char sk[32];
        do {
            if (getrandom(sk, sizeof sk, 0) != sizeof sk) return 1;
        } while (!secp256k1_keypair_create(ctx, &kp, sk));
        hexout(sk, 32);
        if (!xonly(ctx, &kp, pub)) return 1;
        hexout(pub, 32);
        return 0;
    }
    if (strcmp(cmd, "pubkey") == 0 && argc == 3) {
        if (!keypair(ctx, argv[2], &kp) || !xonly(ctx, &kp, pub)) return 1;
        hexout(pub, 32);
        return 0;
    }
    if (strcmp(cmd, "sign") == 0 && (argc == 4 || argc == 5)) {
        if (!keypair(ctx, argv[2], &kp) || !unhex(argv[3], msg, 32)) return usage();
        if (argc == 5) {
            if (!unhex(argv[4], aux, 32)) return usage();
        } else if (getrandom(aux, sizeof aux, 0) != sizeof aux) {
            return 1;
        }
        if (!secp256k1_schnorrsig_sign32(ctx, sig, msg, &kp, aux)) return 1;
        hexout(sig, 64);
        return 0;
    }
    if (strcmp(cmd, "verify") == 0 && argc == 5) {
        secp256k1_xonly_pubkey pk;
        if (!unhex(argv[2], pub, 32) || !unhex(argv[3], msg, 32) || !unhex(argv[4], sig, 64)) return usage();
        if (!secp256k1_xonly_pubkey_parse(ctx, &pk, pub)) {
            fprintf(stderr, "invalid public key\n");
            return 1;
        }
        int ok = secp256k1_schnorrsig_verify(ctx, sig, msg, 32, &pk);
        printf("%s\n", ok ? "valid" : "INVALID");
        return ok ? 0 : 1;
    }
    if (strcmp(cmd, "ecdsa") == 0 && argc == 4) {
        unsigned char sk[32];
        secp256k1_ecdsa_signature es;
        if (!unhex(argv[2], sk, 32) || !unhex(argv[3], msg, 32)) return usage();
        if (!secp256k1_ecdsa_sign(ctx, &es, msg, sk, NULL, NULL)) return 1;
        secp256k1_ecdsa_signature_serialize_compact(ctx, sig, &es);
        hexout(sig, 64);
        return 0;
    }
    if (strcmp(cmd, "selftest") == 0) {
        unsigned char sk[32] = {0};
        secp256k1_xonly_pubkey pk;
        sk[31] = 3;
        memset(msg, 0x5a, sizeof msg);
        memset(aux, 0, sizeof aux);
        if (!secp256k1_keypair_create(ctx, &kp, sk) ||
            !secp256k1_keypair_xonly_pub(ctx, &pk, NULL, &kp) ||
            !secp256k1_schnorrsig_sign32(ctx, sig, msg, &kp, aux) ||
            !secp256k1_schnorrsig_verify(ctx, sig, msg, 32, &pk)) {
            fprintf(stderr, "selftest failed\n");
            return 1;
        }
        sig[0] ^= 1;
        if (secp256k1_schnorrsig_verify(ctx, sig, msg, 32, &pk)) {
            fprintf(stderr, "selftest: tampered signature verified\n");
            return 1;
        }
        printf("selftest ok\n");
        return 0;
    }
    secp256k1_context_destroy(ctx);
    return usage();
}
