/* m1_pack.c: a toy packer and its unpacker stub, for "packed" look-alikes.
 *
 * Compiled with -DM1_SEALER it is the packer: `sealer STUB PAYLOAD OUT`
 * writes STUB, then PAYLOAD XOR-ed with a xorshift keystream (so the
 * payload bytes look random, like a UPX- or custom-packed program), then a
 * 32-byte trailer (offset, length, key, magic). Compiled without it, it is
 * the stub: it reads its own file, decrypts the trailing payload into an
 * anonymous memory file and executes it with the stub's own arguments.
 * Nothing here is a miner: the payload is the inert stand-in m1_miner.c,
 * which refuses every pool that is not a loopback literal.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const char m1_magic[8] = {'\x7f', 'S', 'E', 'A', 'L', '0', '1', '\0'};

struct m1_trailer {
	uint64_t off, len, key;
	char magic[8];
};

static void m1_crypt(unsigned char *b, uint64_t n, uint64_t key)
{
	uint64_t x = key ? key : 0x9e3779b97f4a7c15ULL;

	for (uint64_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		b[i] ^= (unsigned char)(x >> 29);
	}
}

static unsigned char *m1_slurp(const char *path, uint64_t *n)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b;
	long sz;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc((size_t)sz + 1);
	if (!b || fread(b, 1, (size_t)sz, f) != (size_t)sz) {
		fclose(f);
		free(b);
		return NULL;
	}
	fclose(f);
	*n = (uint64_t)sz;
	return b;
}

#ifdef M1_SEALER
int main(int argc, char **argv)
{
	uint64_t ns, np;
	unsigned char *stub, *payload;
	struct m1_trailer t;
	FILE *out;

	if (argc != 4) {
		fprintf(stderr, "usage: %s STUB PAYLOAD OUT\n", argv[0]);
		return 2;
	}
	stub = m1_slurp(argv[1], &ns);
	payload = m1_slurp(argv[2], &np);
	if (!stub || !payload) {
		fprintf(stderr, "%s: cannot read the stub or the payload\n", argv[0]);
		return 1;
	}
	t.off = ns;
	t.len = np;
	t.key = 0x5eed000000000000ULL ^ (np * 0x100000001b3ULL);
	memcpy(t.magic, m1_magic, sizeof(m1_magic));
	m1_crypt(payload, np, t.key);
	out = fopen(argv[3], "wb");
	if (!out || fwrite(stub, 1, ns, out) != ns || fwrite(payload, 1, np, out) != np ||
	    fwrite(&t, sizeof(t), 1, out) != 1 || fclose(out) != 0) {
		fprintf(stderr, "%s: cannot write %s\n", argv[0], argv[3]);
		return 1;
	}
	return 0;
}
#else
int main(int argc, char **argv)
{
	uint64_t n;
	unsigned char *self = m1_slurp("/proc/self/exe", &n);
	struct m1_trailer t;
	int fd;

	(void)argc;
	if (!self || n < sizeof(t))
		return 127;
	memcpy(&t, self + n - sizeof(t), sizeof(t));
	if (memcmp(t.magic, m1_magic, sizeof(m1_magic)) != 0 || t.off + t.len + sizeof(t) != n)
		return 127;
	m1_crypt(self + t.off, t.len, t.key);
	fd = memfd_create(argv[0], MFD_CLOEXEC);
	if (fd < 0 || write(fd, self + t.off, t.len) != (ssize_t)t.len)
		return 126;
	fexecve(fd, argv, environ);
	return 126;
}
#endif
