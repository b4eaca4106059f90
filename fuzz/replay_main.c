/* SPDX-License-Identifier: MIT */
/*
 * fuzz/replay_main.c - runs a fuzz harness without libFuzzer, over the files given on the
 * command line (a directory means every regular file in it, sorted), so the committed
 * corpus is an ordinary Meson test on every target with any C compiler. TAP output: one
 * subtest for the whole corpus (a corpus is one case in the conformance report, however
 * many files it has); each failing input is named in a diagnostic line and on stderr.
 *
 *   replay DIR|FILE...               every input must pass (exit 1 otherwise)
 *   replay --expect-failure DIR...   the build is a deliberately broken variant: passes
 *                                    (one "ok") only if at least one input is caught
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

jmp_buf fuzz_replay_jmp;

static char **paths;
static size_t npaths, cap;

static void add_path(const char *p)
{
	if (npaths == cap) {
		cap = cap ? 2 * cap : 64;
		paths = realloc(paths, cap * sizeof(*paths));
		if (!paths)
			exit(2);
	}
	paths[npaths++] = strdup(p);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void collect(const char *arg)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	size_t first = npaths;

	if (stat(arg, &st) != 0) {
		fprintf(stderr, "replay: cannot stat %s\n", arg);
		exit(2);
	}
	if (!S_ISDIR(st.st_mode)) {
		add_path(arg);
		return;
	}
	d = opendir(arg);
	if (!d) {
		fprintf(stderr, "replay: cannot open %s\n", arg);
		exit(2);
	}
	while ((e = readdir(d)) != NULL) {
		char buf[4096];

		if (e->d_name[0] == '.')
			continue;
		snprintf(buf, sizeof(buf), "%s/%s", arg, e->d_name);
		if (stat(buf, &st) == 0 && S_ISREG(st.st_mode))
			add_path(buf);
	}
	closedir(d);
	qsort(paths + first, npaths - first, sizeof(*paths), by_name);
}

/* Returns 1 if the input broke an invariant. */
static int run_one(const char *path)
{
	static unsigned char buf[1 << 16];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		exit(2);
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (setjmp(fuzz_replay_jmp))
		return 1;
	LLVMFuzzerTestOneInput(buf, n);
	return 0;
}

int main(int argc, char **argv)
{
	int expect_failure = 0, i;
	size_t k, failed = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--expect-failure"))
			expect_failure = 1;
		else
			collect(argv[i]);
	}
	if (!npaths) {
		fprintf(stderr, "replay: no inputs\n");
		return 2;
	}
	if (expect_failure) {
		for (k = 0; k < npaths; k++)
			failed += (size_t)run_one(paths[k]);
		printf("1..1\n%s 1 - broken variant caught by %zu of %zu inputs\n",
		       failed ? "ok" : "not ok", failed, npaths);
		return failed ? 0 : 1;
	}
	printf("1..1\n");
	for (k = 0; k < npaths; k++) {
		if (run_one(paths[k])) {
			failed++;
			printf("# invariant broken by %s\n", paths[k]);
		}
	}
	printf("%s 1 - %zu inputs replayed, %zu broke an invariant\n", failed ? "not ok" : "ok",
	       npaths, failed);
	return failed ? 1 : 0;
}
