/*
 * ttff_start: a C program's start, for ttff_time: it writes one line at
 * main and exits. Beside internal/vmtest/cmd/ttff-start (the same in Go)
 * it shows what the Go runtime costs before main.
 */
#include <unistd.h>

int main(void)
{
	write(2, "ttff-start: main\n", 17);
	return 0;
}
