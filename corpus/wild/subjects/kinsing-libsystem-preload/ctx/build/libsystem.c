/* libsystem.c: an inert look-alike of Kinsing's /etc/libsystem.so, the
 * user-mode rootkit it registers in /etc/ld.so.preload. The real one wraps
 * readdir/readdir64 and skips the /proc entries of its own processes and
 * files. This one exports the same symbols and names the same targets, but
 * hides nothing: every call goes straight to libc's function. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <stddef.h>

const char *const libsystem_hidden[] = {
	"kinsing", "kdevtmpfsi", "libsystem.so", "d.sh", "ld.so.preload", NULL,
};

struct dirent *readdir(DIR *dirp)
{
	static struct dirent *(*next)(DIR *);

	if (!next)
		next = (struct dirent *(*)(DIR *))dlsym(RTLD_NEXT, "readdir");
	return next(dirp);
}

struct dirent64 *readdir64(DIR *dirp)
{
	static struct dirent64 *(*next)(DIR *);

	if (!next)
		next = (struct dirent64 *(*)(DIR *))dlsym(RTLD_NEXT, "readdir64");
	return next(dirp);
}
