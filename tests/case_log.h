/* SPDX-License-Identifier: MIT */
/*
 * tests/case_log.h - conformance metrics of a Check test case, for ./matrix report.
 *
 * A test case that measures something (transactions run, hardware A/D events, lost
 * updates, spurious faults, paravirt traps) calls ptxn_case_log() once. When the
 * environment variable PTXN_CASE_LOG names a file, one JSON object is appended to it as a
 * single write(2) with O_APPEND (atomic for lines this short, also from Check's forked
 * children); otherwise nothing happens. ./matrix report joins these lines with Meson's
 * JUnit results by test name and case name (docs/report.md has the schema).
 */
#ifndef PTXN_TESTS_CASE_LOG_H
#define PTXN_TESTS_CASE_LOG_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ptxn_case_result {
	const char *name;      /* the Check test case name (tcase_add_test's function name) */
	const char *strategy;  /* "clear", "merge", "auto", "unsafe-rmw", or NULL */
	const char *format;    /* entry format (PTXN_FORMAT_NAME), or NULL */
	int passed;
	uint64_t transactions;
	uint64_t hw_events;    /* Accessed/Dirty updates made by emulated or real MMUs */
	uint64_t lost_updates;
	uint64_t spurious_faults;
	int64_t traps;         /* paravirt hypercalls/traps, or -1 when not applicable */
	uint64_t interleavings; /* exhaustive check: interleavings explored (0: not one) */
	double seconds;
	const char *message;   /* first failure message, or NULL */
};

/* JSON string escaping for the few characters our messages can contain. */
static inline size_t ptxn_case_json_string(char *out, size_t room, const char *s)
{
	size_t n = 0;

	if (!s)
		return (size_t)snprintf(out, room, "null");
	if (n < room)
		out[n] = '"';
	n++;
	for (; *s; s++) {
		char esc = 0;

		if (*s == '"' || *s == '\\')
			esc = *s;
		else if (*s == '\n')
			esc = 'n';
		else if ((unsigned char)*s < 0x20)
			continue;
		if (esc) {
			if (n + 1 < room) {
				out[n] = '\\';
				out[n + 1] = esc;
			}
			n += 2;
		} else {
			if (n < room)
				out[n] = *s;
			n++;
		}
	}
	if (n < room)
		out[n] = '"';
	n++;
	if (n < room)
		out[n] = '\0';
	return n;
}

static inline void ptxn_case_log(const struct ptxn_case_result *r)
{
	const char *path = getenv("PTXN_CASE_LOG");
	const char *test = getenv("PTXN_TEST_NAME");
	char name[256], strategy[64], format[64], message[512], test_json[128], traps[32];
	char interleavings[48];
	char line[2048];
	int fd, len;

	if (!path || !*path)
		return;
	ptxn_case_json_string(name, sizeof(name), r->name);
	ptxn_case_json_string(strategy, sizeof(strategy), r->strategy);
	ptxn_case_json_string(format, sizeof(format), r->format);
	ptxn_case_json_string(message, sizeof(message), r->message);
	ptxn_case_json_string(test_json, sizeof(test_json), test);
	if (r->interleavings)
		snprintf(interleavings, sizeof(interleavings), ", \"interleavings\": %llu",
			 (unsigned long long)r->interleavings);
	else
		interleavings[0] = '\0';
	if (r->traps < 0)
		snprintf(traps, sizeof(traps), "null");
	else
		snprintf(traps, sizeof(traps), "%lld", (long long)r->traps);
	len = snprintf(line, sizeof(line),
		       "{\"test\": %s, \"name\": %s, \"strategy\": %s, \"format\": %s, "
		       "\"status\": \"%s\", \"transactions\": %llu, \"hw_events\": %llu, "
		       "\"lost_updates\": %llu, \"spurious_faults\": %llu, \"traps\": %s, "
		       "\"seconds\": %.6f, \"message\": %s%s}\n",
		       test_json, name, strategy, format, r->passed ? "pass" : "fail",
		       (unsigned long long)r->transactions, (unsigned long long)r->hw_events,
		       (unsigned long long)r->lost_updates, (unsigned long long)r->spurious_faults,
		       traps, r->seconds, message, interleavings);
	if (len <= 0 || (size_t)len >= sizeof(line))
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (fd < 0)
		return;
	if (write(fd, line, (size_t)len) != len) {
		/* a short append cannot be repaired; the report flags the missing metrics */
	}
	close(fd);
}

#endif /* PTXN_TESTS_CASE_LOG_H */
