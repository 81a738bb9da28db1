/*
 * ttff_time: the time to first frame measured inside the guest, to the
 * millisecond, beside the screendumps that see it from outside. Each
 * program is started in turn (round robin, RUNS times) with its standard
 * output and error on a pipe; the clock (CLOCK_MONOTONIC) starts just
 * before fork and stops when the program writes the line that says its
 * frame is up, then the program is ended with SIGTERM (SIGKILL if it does
 * not go within 10 s). A program may also write a line at main: its time
 * is the runtime's start, exec to main.
 *
 *	ttff_time RUNS NAME FRAME-MARK MAIN-MARK CMD ARG... -- NAME ...
 *
 * A mark is text the line contains; an empty MAIN-MARK means none. For
 * each run it prints
 *
 *	ttff_time: NAME RUN main_ms=M frame_ms=F
 *
 * (M is -1 without a main mark), or "ttff_time: NAME RUN failed: WHY"
 * and the program's output. Built by the VM suite with cc -static.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct prog {
	const char *name, *frame, *main;
	char **argv;
};

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* The program's output, kept for a failure's message. */
static char out[65536];
static size_t outlen;

static void run(const struct prog *p, int i)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC)) {
		printf("ttff_time: %s %d failed: pipe: %s\n", p->name, i, strerror(errno));
		return;
	}
	outlen = 0;
	out[0] = 0;
	double t0 = now_ms();
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		execv(p->argv[0], p->argv);
		dprintf(2, "exec %s: %s\n", p->argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		printf("ttff_time: %s %d failed: fork: %s\n", p->name, i, strerror(errno));
		return;
	}
	double main_ms = -1, frame_ms = -1;
	const char *why = NULL;
	size_t scanned = 0; /* out[:scanned] holds whole lines already looked at */
	while (frame_ms < 0 && !why) {
		struct pollfd pf = {.fd = fds[0], .events = POLLIN};
		int r = poll(&pf, 1, 20000);
		if (r == 0) {
			why = "no frame within 20s";
			break;
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			why = "poll failed";
			break;
		}
		if (outlen == sizeof out - 1)
			outlen = scanned = 0; /* a flood: the marks are in short lines */
		ssize_t n = read(fds[0], out + outlen, sizeof out - 1 - outlen);
		double t = now_ms();
		if (n <= 0) {
			why = "it exited before its frame";
			break;
		}
		outlen += n;
		out[outlen] = 0;
		char *nl;
		while ((nl = memchr(out + scanned, '\n', outlen - scanned))) {
			*nl = 0;
			const char *line = out + scanned;
			if (p->main[0] && main_ms < 0 && strstr(line, p->main))
				main_ms = t - t0;
			if (strstr(line, p->frame))
				frame_ms = t - t0;
			*nl = '\n';
			scanned = nl + 1 - out;
		}
	}
	kill(pid, SIGTERM);
	/* Drain the pipe so that the program is not held in a write; the
	 * bound is SIGKILL's. */
	double stop = now_ms();
	int status = 0;
	for (;;) {
		struct pollfd pf = {.fd = fds[0], .events = POLLIN};
		int r = poll(&pf, 1, 1000);
		if (r > 0) {
			char sink[4096];
			ssize_t n = read(fds[0], sink, sizeof sink);
			if (n > 0) {
				if (outlen + n < sizeof out) {
					memcpy(out + outlen, sink, n);
					outlen += n;
					out[outlen] = 0;
				}
				continue;
			}
		}
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		if (now_ms() - stop > 10000) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			if (!why)
				why = "it did not end within 10s of SIGTERM";
			break;
		}
		if (r == 0 || r < 0)
			usleep(10000);
	}
	close(fds[0]);
	if (why) {
		printf("ttff_time: %s %d failed: %s (status 0x%x); its output:\n%s\n", p->name, i, why, status, out);
		return;
	}
	printf("ttff_time: %s %d main_ms=%.2f frame_ms=%.2f\n", p->name, i, main_ms, frame_ms);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	if (argc < 6) {
		fprintf(stderr, "usage: ttff_time RUNS NAME FRAME-MARK MAIN-MARK CMD ARG... [-- NAME ...]\n");
		return 2;
	}
	int runs = atoi(argv[1]);
	struct prog progs[16];
	int n = 0;
	for (int a = 2; a < argc && n < 16;) {
		if (argc - a < 4) {
			fprintf(stderr, "ttff_time: %s: want NAME FRAME-MARK MAIN-MARK CMD\n", argv[a]);
			return 2;
		}
		struct prog *p = &progs[n++];
		p->name = argv[a];
		p->frame = argv[a + 1];
		p->main = argv[a + 2];
		p->argv = &argv[a + 3];
		a += 3;
		while (a < argc && strcmp(argv[a], "--"))
			a++;
		if (a < argc)
			argv[a++] = NULL;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0; i < runs; i++)
		for (int j = 0; j < n; j++) {
			run(&progs[(i + j) % n], i); /* each goes first in turn */
			usleep(100000); /* the last one's exit settles */
		}
	return 0;
}
