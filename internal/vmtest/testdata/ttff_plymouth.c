/*
 * ttff_plymouth starts Debian's plymouthd the way an initramfs does, and
 * asks it to show the splash as soon as it listens: plymouthd --mode=boot
 * --no-daemon, a connect to its abstract socket until it answers, then
 * `plymouth show-splash`. SIGTERM ends plymouthd and then this program.
 * Arguments are passed on to plymouthd (--debug, say).
 *
 * Built by the VM suite with gcc -static, so that it adds no start-up cost
 * of its own beyond one fork.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t daemon_pid;

static void on_term(int sig)
{
	(void)sig;
	if (daemon_pid > 0)
		kill(daemon_pid, SIGTERM);
}

static int listening(void)
{
	static const char name[] = "\0/org/freedesktop/plymouthd";
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	memcpy(a.sun_path, name, sizeof name - 1);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return 0;
	int ok = connect(s, (struct sockaddr *)&a, offsetof(struct sockaddr_un, sun_path) + sizeof name - 1) == 0;
	close(s);
	return ok;
}

int main(int argc, char **argv)
{
	signal(SIGTERM, on_term);
	daemon_pid = fork();
	if (daemon_pid == 0) {
		char *args[32] = {"plymouthd", "--mode=boot", "--no-daemon"};
		for (int i = 1; i < argc && i < 28; i++)
			args[i + 2] = argv[i];
		execv("/usr/sbin/plymouthd", args);
		perror("ttff_plymouth: exec plymouthd");
		_exit(127);
	}
	if (daemon_pid < 0) {
		perror("ttff_plymouth: fork");
		return 1;
	}
	struct timespec pause = {0, 2000000};
	for (int i = 0; !listening(); i++) {
		int st;
		if (waitpid(daemon_pid, &st, WNOHANG) == daemon_pid) {
			fprintf(stderr, "ttff_plymouth: plymouthd exited before it listened (status %d)\n", st);
			return 1;
		}
		if (i > 5000) {
			fprintf(stderr, "ttff_plymouth: plymouthd did not listen within 10s\n");
			kill(daemon_pid, SIGKILL);
			return 1;
		}
		nanosleep(&pause, NULL);
	}
	pid_t c = fork();
	if (c == 0) {
		execl("/usr/bin/plymouth", "plymouth", "show-splash", (char *)NULL);
		perror("ttff_plymouth: exec plymouth");
		_exit(127);
	}
	int st;
	if (c > 0 && waitpid(c, &st, 0) == c && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
		fprintf(stderr, "ttff_plymouth: plymouth show-splash: status %d\n", st);
	printf("ttff_plymouth: show-splash sent\n");
	fflush(stdout);
	while (waitpid(daemon_pid, &st, 0) < 0 && errno == EINTR)
		;
	return 0;
}
