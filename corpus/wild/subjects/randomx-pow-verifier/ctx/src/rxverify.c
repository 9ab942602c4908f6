/*
 * rxverify: checks Monero proof-of-work the way a node checks a block it
 * receives, with tevador's RandomX library in light mode (256 MiB cache,
 * no dataset): hash = RandomX(seed, hashing_blob), then the block is valid
 * when hash (little-endian 256-bit) * difficulty does not overflow 2^256.
 *
 *   rxverify kat                       RandomX reference test vectors
 *   rxverify check SEED BLOB DIFF [H]  one block: seed hash and hashing
 *                                      blob in hex, difficulty, optional
 *                                      expected pow hash
 *   rxverify batch                     lines "SEED BLOB DIFF [H]" on stdin
 *
 * Each input is hashed once; nothing here searches nonces.
 */
#include <randomx.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static randomx_cache *cache;
static randomx_vm *vm;
static unsigned char cur_key[256];
static size_t cur_key_len = (size_t)-1;

static int unhex(const char *s, unsigned char *out, size_t max, size_t *n)
{
	size_t l = strlen(s);
	if (l % 2 || l / 2 > max)
		return -1;
	for (size_t i = 0; i < l / 2; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	*n = l / 2;
	return 0;
}

static void tohex(const unsigned char *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static int set_key(const void *key, size_t len)
{
	if (len > sizeof cur_key)
		return -1;
	if (cache && len == cur_key_len && memcmp(key, cur_key, len) == 0)
		return 0;
	randomx_flags flags = randomx_get_flags() & ~(randomx_flags)RANDOMX_FLAG_FULL_MEM;
	if (!cache) {
		cache = randomx_alloc_cache(flags);
		if (!cache) {
			flags &= ~(randomx_flags)RANDOMX_FLAG_JIT;
			cache = randomx_alloc_cache(flags);
		}
		if (!cache)
			return -1;
	}
	randomx_init_cache(cache, key, len);
	if (!vm) {
		vm = randomx_create_vm(flags, cache, NULL);
		if (!vm)
			return -1;
	} else {
		randomx_vm_set_cache(vm, cache);
	}
	memcpy(cur_key, key, len);
	cur_key_len = len;
	return 0;
}

/* Monero's check_hash: hash as a little-endian 256-bit integer times the
 * difficulty must stay below 2^256. */
static int check_difficulty(const unsigned char h[32], uint64_t diff)
{
	unsigned __int128 carry = 0;
	for (int w = 0; w < 4; w++) {
		uint64_t word = 0;
		for (int b = 7; b >= 0; b--)
			word = (word << 8) | h[w * 8 + b];
		carry += (unsigned __int128)word * diff;
		carry >>= 64;
	}
	return carry == 0;
}

static int kat(void)
{
	static const struct { const char *key, *in, *want; } v[] = {
		{"test key 000", "This is a test", "639183aae1bf4c9a35884cb46b09cad9175f04efd7684e7262a0ac1c2f0b4e3f"},
		{"test key 000", "Lorem ipsum dolor sit amet", "300a0adb47603dedb42228ccb2b211104f4da45af709cd7547cd049e9489c969"},
		{"test key 000", "sed do eiusmod tempor incididunt ut labore et dolore magna aliqua", "c36d4ed4191e617309867ed66a443be4075014e2b061bcdaf9ce7b721d2b77a8"},
		{"test key 001", "sed do eiusmod tempor incididunt ut labore et dolore magna aliqua", "e9ff4503201c0c2cca26d285c93ae883f9b1d30c9eb240b820756f2d5a7905fc"},
	};
	int bad = 0;
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		unsigned char h[RANDOMX_HASH_SIZE];
		char hex[2 * RANDOMX_HASH_SIZE + 1];
		if (set_key(v[i].key, strlen(v[i].key)) != 0) {
			fprintf(stderr, "rxverify: cannot allocate the RandomX cache\n");
			return 2;
		}
		randomx_calculate_hash(vm, v[i].in, strlen(v[i].in), h);
		tohex(h, sizeof h, hex);
		int ok = strcmp(hex, v[i].want) == 0;
		printf("%s vector %zu %s\n", ok ? "ok  " : "FAIL", i + 1, hex);
		bad += !ok;
	}
	return bad ? 1 : 0;
}

static int check(const char *seed, const char *blob, const char *diffs, const char *want)
{
	unsigned char k[32], b[1024], h[RANDOMX_HASH_SIZE];
	size_t kl, bl;
	char hex[2 * RANDOMX_HASH_SIZE + 1];
	if (unhex(seed, k, sizeof k, &kl) || unhex(blob, b, sizeof b, &bl)) {
		fprintf(stderr, "rxverify: seed and blob must be hex\n");
		return 2;
	}
	uint64_t diff = strtoull(diffs, NULL, 10);
	if (set_key(k, kl) != 0) {
		fprintf(stderr, "rxverify: cannot allocate the RandomX cache\n");
		return 2;
	}
	randomx_calculate_hash(vm, b, bl, h);
	tohex(h, sizeof h, hex);
	int ok = check_difficulty(h, diff) && (!want || strcmp(want, hex) == 0);
	printf("{\"pow_hash\":\"%s\",\"difficulty\":%llu,\"valid\":%s}\n", hex,
	       (unsigned long long)diff, ok ? "true" : "false");
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "kat") == 0)
		return kat();
	if (argc >= 5 && strcmp(argv[1], "check") == 0)
		return check(argv[2], argv[3], argv[4], argc > 5 ? argv[5] : NULL);
	if (argc >= 2 && strcmp(argv[1], "batch") == 0) {
		char line[4096], s[129], bl[2049], d[32], w[65];
		int bad = 0;
		while (fgets(line, sizeof line, stdin)) {
			int n = sscanf(line, "%128s %2048s %31s %64s", s, bl, d, w);
			if (n < 3 || line[0] == '#')
				continue;
			bad |= check(s, bl, d, n == 4 ? w : NULL) != 0;
		}
		return bad;
	}
	fprintf(stderr, "usage: rxverify kat | check SEED_HEX BLOB_HEX DIFFICULTY [POW_HASH] | batch < blocks.txt\n");
	return 2;
}
