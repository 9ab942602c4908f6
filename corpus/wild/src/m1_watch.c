/* m1_watch.c: an inert look-alike of a Kinsing-style launcher.
 *
 * Kinsing's Go binary drops its miner (kdevtmpfsi) in /tmp and keeps it
 * running. This stand-in only restarts M1_TARGET with M1_ARGS when it exits,
 * at most M1_RESTARTS times; it downloads nothing and spreads nowhere. The
 * target is the inert m1_miner.c stand-in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef M1_TARGET
#define M1_TARGET "/tmp/kdevtmpfsi"
#endif
#ifndef M1_ARGS
#define M1_ARGS ""
#endif
#ifndef M1_RESTARTS
#define M1_RESTARTS 3
#endif

int main(void)
{
	char args[512], *argv[32];
	int argc = 0;

	argv[argc++] = M1_TARGET;
	snprintf(args, sizeof(args), "%s", M1_ARGS);
	for (char *tok = strtok(args, " "); tok && argc < 31; tok = strtok(NULL, " "))
		argv[argc++] = tok;
	argv[argc] = NULL;

	for (int i = 0; i < M1_RESTARTS; i++) {
		pid_t pid = fork();
		int status;

		if (pid == 0) {
			execv(M1_TARGET, argv);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &status, 0) < 0)
			return 1;
		fprintf(stderr, "watch: %s exited (%d), restart %d/%d in 10s\n", M1_TARGET,
			WIFEXITED(status) ? WEXITSTATUS(status) : -1, i + 1, M1_RESTARTS);
		sleep(10);
	}
	return 0;
}
