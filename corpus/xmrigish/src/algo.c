/* Algorithm names as XMRig's --algo / "algo" accept them (xmrig/xmrig src/core/config/usage.h:
 * rx/0, cn/r, cryptonight, ...). The stand-in only validates names: it
 * implements none of these algorithms. */
#include <string.h>

#include "xmrigish.h"

static const struct {
	const char *name;
	const char *family;
} algos[] = {
	{"rx/0", "randomx"},        {"rx/wow", "randomx"},  {"rx/arq", "randomx"},
	{"rx/graft", "randomx"},    {"rx/sfx", "randomx"},  {"rx/yada", "randomx"},
	{"cn/0", "cryptonight"},    {"cn/1", "cryptonight"}, {"cn/2", "cryptonight"},
	{"cn/r", "cryptonight"},    {"cn/half", "cryptonight"}, {"cn/rto", "cryptonight"},
	{"cn-lite/1", "cryptonight-lite"}, {"cn-heavy/xhv", "cryptonight-heavy"},
	{"cn-pico", "cryptonight-pico"},   {"argon2/chukwa", "argon2"},
	{"argon2/chukwav2", "argon2"},     {"argon2/wrkz", "argon2"},
	{"ghostrider", "ghostrider"},      {"kawpow", "kawpow"},
};

int algo_known(const char *name)
{
	return algo_family(name) != NULL;
}

const char *algo_family(const char *name)
{
	for (size_t i = 0; i < sizeof(algos) / sizeof(algos[0]); i++)
		if (strcmp(algos[i].name, name) == 0)
			return algos[i].family;
	/* xmrig aliases */
	if (strcmp(name, "randomx") == 0 || strcmp(name, "rx") == 0)
		return "randomx";
	if (strcmp(name, "cryptonight") == 0)
		return "cryptonight";
	return NULL;
}

size_t algo_list(const char **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < sizeof(algos) / sizeof(algos[0]) && n < max; i++)
		out[n++] = algos[i].name;
	return n;
}
