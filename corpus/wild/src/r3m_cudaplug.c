/* r3m_cudaplug.c: an inert stand-in for XMRig's CUDA plugin
 * (libxmrig-cuda.so, https://github.com/xmrig/xmrig-cuda). The real plugin
 * is a shared library exporting the functions XMRig's CUDA backend loads
 * by name; this stand-in only carries those names and the plugin's
 * version strings, and when run prints them. It has no kernels and never
 * hashes. */
#include <stdio.h>

static const char *const exports[] = {
	"alloc", "cnHash", "deviceCount", "deviceInfo", "deviceInit", "deviceInt",
	"deviceName", "deviceUlong", "init", "lastError", "pluginVersion",
	"release", "rxHash", "rxPrepare", "kawPowHash", "kawPowPrepare_v2",
	"setJob", "version", NULL,
};

int main(void)
{
	int i;

	puts("xmrig-cuda 6.17.0 (CUDA 11.4) stand-in: no devices, no kernels");
	for (i = 0; exports[i]; i++)
		printf("  export %s\n", exports[i]);
	return 0;
}
