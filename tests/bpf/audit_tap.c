// SPDX-License-Identifier: Apache-2.0
/*
 * The audit tap against the real kernel: the stand-in apiserver writes, the tap captures, and
 * every line must arrive byte-exact (compared with the files on disk), with nothing lost,
 * through rotation and restarts; large events are kept whole or head+tail; other processes and
 * other files are not captured; and a ring overflow is counted exactly.
 */
#include "tap_harness.h"

struct run {
	char *dir;
	char logdir[300];
	char path[320];
	struct tlines got;
	struct capture *c;
};

static void run_start(struct run *r, const char *tag, struct capture_opts *co)
{
	memset(r, 0, sizeof(*r));
	tap_require_bpf();
	r->dir = tap_tmpdir(tag);
	snprintf(r->logdir, sizeof(r->logdir), "%s/log", r->dir);
	snprintf(r->path, sizeof(r->path), "%s/audit.log", r->logdir);
	cr_assert_eq(mkdir(r->logdir, 0700), 0);
	co->line_fn = tap_collect;
	co->line_ctx = &r->got;
	if (!co->audit_log && !co->comm)
		co->audit_log = r->path;
	cr_assert_eq(capture__new(co, &r->c), 0, "loading the audit tap failed");
}

static void run_end(struct run *r)
{
	capture__free(r->c);
	tlines_free(&r->got);
	rm_rf(r->dir);
}

static void assert_nothing_lost(struct capture *c)
{
	struct capture_stats s;

	capture__stats(c, &s);
	cr_assert_eq(capture__stats_lost(&s), 0, "lost %llu writes",
		     (unsigned long long)capture__stats_lost(&s));
	cr_assert_eq(s.reasm.gap_writes, 0);
	cr_assert_eq(s.tap[KH_TAP_LOST_PROC], 0);
}

static char *read_all(FILE *f, size_t *len)
{
	char *buf;
	long n;

	fflush(f);
	n = ftell(f);
	cr_assert(n >= 0);
	buf = malloc(n + 1);
	rewind(f);
	cr_assert_eq(fread(buf, 1, n, f), (size_t)n);
	buf[n] = 0;
	*len = n;
	return buf;
}

/* (a) the bundled samples: every line arrives byte-exact, and the alerts equal replay's */
Test(audit_tap, live_capture_equals_replay)
{
	struct capture_opts co = {0};
	struct kh_pipeline_opts lo = {0}, ro = {0};
	struct kh_pipeline *live, *replay;
	struct tlines want = {0};
	char input[400];
	char *la, *ra;
	size_t ll, rl;
	struct run r;

	lo.out = tmpfile();
	ro.out = tmpfile();
	live = pipeline__new(&lo);
	replay = pipeline__new(&ro);
	cr_assert(live && replay);
	run_start(&r, "a", &co);
	r.got.pipe = live;
	snprintf(input, sizeof(input), "%s/in.log", r.dir);
	sample_input(input);
	{
		char *argv[] = {STANDIN, "--audit-log-path", r.path, "--input", input, "--threads",
				"4",	 "--exit-when-done", NULL};

		cr_assert_eq(run_until_exit(r.c, spawn_argv(argv), 60), 0);
	}
	pipeline__flush(live);
	tlines_read_written(&want, r.logdir);
	tlines_assert_equal(&r.got, &want);
	assert_nothing_lost(r.c);

	/* replay: the same lines, from the file, through a fresh pipeline */
	for (size_t i = 0; i < want.n; i++) {
		struct kh_origin o = {.source = input, .line_no = i + 1};

		pipeline__feed_line(replay, want.v[i].data, want.v[i].len, &o);
	}
	pipeline__flush(replay);
	la = read_all(lo.out, &ll);
	ra = read_all(ro.out, &rl);
	cr_assert_gt(pipeline__counters(replay)->alerts, 0, "the samples must raise alerts");
	cr_assert_eq(pipeline__counters(live)->alerts, pipeline__counters(replay)->alerts);
	cr_assert_eq(ll, rl);
	cr_assert(memcmp(la, ra, ll) == 0, "live alerts differ from replay alerts");
	free(la);
	free(ra);
	tlines_free(&want);
	pipeline__free(live);
	pipeline__free(replay);
	run_end(&r);
}

/* (b) rotation by rename under four writer threads loses nothing */
Test(audit_tap, rotation_mid_stream_loses_nothing)
{
	struct capture_opts co = {0};
	struct tlines want = {0};
	char input[400];
	struct run r;

	run_start(&r, "b", &co);
	snprintf(input, sizeof(input), "%s/in.log", r.dir);
	sample_input(input);
	{
		char *argv[] = {STANDIN, "--audit-log-path", r.path,  "--input",
				input,	 "--repeat",	     "8",     "--threads",
				"4",	 "--rotate-bytes",   "16384", "--exit-when-done",
				NULL};

		cr_assert_eq(run_until_exit(r.c, spawn_argv(argv), 120), 0);
	}
	tlines_read_written(&want, r.logdir);
	cr_assert_gt(want.n, 900);
	tlines_assert_equal(&r.got, &want);
	assert_nothing_lost(r.c);
	/* every new audit.log was picked up by name, before the agent could have known of it */
	cr_assert_geq(tap_counter(r.c, KH_TAP_NAME_MATCHES), 20);
	tlines_free(&want);
	run_end(&r);
}

static void restart_case(const char *tag, const char *mode)
{
	struct capture_opts co = {0};
	struct tlines want = {0};
	char input[400];
	struct run r;

	run_start(&r, tag, &co);
	snprintf(input, sizeof(input), "%s/in.log", r.dir);
	sample_input(input);
	{
		char *argv[] = {STANDIN,      "--audit-log-path", r.path, "--input",
				input,	      "--repeat",	  "3",	  "--threads",
				"2",	      "--restart-after",  "100",  "--restart-mode",
				(char *)mode, "--exit-when-done", NULL};

		cr_assert_eq(run_until_exit(r.c, spawn_argv(argv), 60), 0);
	}
	tlines_read_written(&want, r.logdir);
	cr_assert_gt(want.n, 300);
	tlines_assert_equal(&r.got, &want);
	assert_nothing_lost(r.c);
	/* the first start and three restarts (375 lines, one restart per 100) */
	cr_assert_geq(tap_counter(r.c, KH_TAP_TARGET_EXECS), 4);
	tlines_free(&want);
	run_end(&r);
}

/* (c) the apiserver re-executes itself mid-stream (same pid) */
Test(audit_tap, restart_by_exec_loses_nothing)
{
	restart_case("c1", "exec");
}

/* (c) a new apiserver process replaces the old one (new pid) */
Test(audit_tap, restart_as_new_process_loses_nothing)
{
	restart_case("c2", "spawn");
}

/* the input of (d): small, 500 KB, 5 MB, small; the big ones shaped like RequestResponse */
static void write_big_input(const char *path, size_t *len500, size_t *len5m)
{
	FILE *f = fopen(path, "w");
	size_t sizes[2] = {500 * 1024, 5 * 1024 * 1024};

	cr_assert_not_null(f);
	fprintf(f, "{\"kind\":\"Event\",\"auditID\":\"small-1\"}\n");
	for (int k = 0; k < 2; k++) {
		char head[256], tail[256];
		size_t fill;

		snprintf(head, sizeof(head),
			 "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":"
			 "\"RequestResponse\",\"auditID\":\"big-%d\",\"stage\":"
			 "\"ResponseComplete\",\"verb\":\"list\",\"responseObject\":{\"d\":\"",
			 k);
		snprintf(tail, sizeof(tail),
			 "\"},\"annotations\":{\"authorization.k8s.io/decision\":\"allow\","
			 "\"authorization.k8s.io/reason\":\"big-%d\"}}\n",
			 k);
		/* the write (line and newline) is exactly sizes[k] bytes */
		fill = sizes[k] - strlen(head) - strlen(tail);
		fputs(head, f);
		for (size_t i = 0; i < fill; i++)
			fputc('A' + (int)(i * 7 % 26), f);
		fputs(tail, f);
	}
	fprintf(f, "{\"kind\":\"Event\",\"auditID\":\"small-2\"}\n");
	fclose(f);
	*len500 = sizes[0];
	*len5m = sizes[1];
}

static void large_case(const char *tag, const char *sys)
{
	struct capture_opts co = {0};
	struct tlines want = {0};
	char input[400];
	size_t l500, l5m, cap = KH_AUDIT_CAP_DEFAULT, tail = KH_AUDIT_TAIL_DEFAULT;
	const struct tline *big;
	struct kh_pipeline_opts po = {0};
	struct kh_pipeline *p;
	struct run r;

	po.out = tmpfile();
	p = pipeline__new(&po);
	cr_assert_not_null(p);
	run_start(&r, tag, &co);
	r.got.pipe = p;
	snprintf(input, sizeof(input), "%s/in.log", r.dir);
	write_big_input(input, &l500, &l5m);
	{
		char *argv[] = {STANDIN, "--audit-log-path", r.path,	  "--input",
				input,	 "--syscall",	     (char *)sys, "--exit-when-done",
				NULL};

		cr_assert_eq(run_until_exit(r.c, spawn_argv(argv), 60), 0);
	}
	tlines_read_written(&want, r.logdir);
	cr_assert_eq(want.n, 4);
	cr_assert_eq(r.got.n, 4, "captured %zu lines", r.got.n);
	assert_nothing_lost(r.c);
	/* small lines and the 500 KB event: whole, byte-exact, not flagged */
	for (int i = 0; i < 4; i++) {
		if (i == 2)
			continue;
		cr_assert_eq(r.got.v[i].len, want.v[i].len, "line %d", i + 1);
		cr_assert(!memcmp(r.got.v[i].data, want.v[i].data, want.v[i].len), "line %d",
			  i + 1);
		cr_assert_eq(r.got.v[i].flags, 0);
	}
	cr_assert_eq(want.v[1].len + 1, l500);
	/* the 5 MB event: the first cap - tail bytes and the last tail bytes of the write */
	big = &r.got.v[2];
	cr_assert_eq(want.v[2].len + 1, l5m);
	cr_assert_eq(big->flags, KH_EV_TRUNCATED);
	cr_assert_eq(big->cut, cap - tail, "the tail starts after the head");
	cr_assert_eq(big->len, cap - 1, "kept %zu bytes", big->len);
	cr_assert(!memcmp(big->data, want.v[2].data, cap - tail), "head differs");
	cr_assert(!memcmp(big->data + cap - tail, want.v[2].data + want.v[2].len - (tail - 1),
			  tail - 1),
		  "tail differs");
	cr_assert(strstr(big->data + cap - tail, "authorization.k8s.io/decision"));
	cr_assert_eq(tap_counter(r.c, KH_TAP_TRUNCATED), 1);
	/* the pipeline takes the cut line as an event (fields from both sides of the hole) */
	cr_assert_eq(pipeline__counters(p)->truncated, 1);
	cr_assert_eq(pipeline__counters(p)->malformed, 0);
	cr_assert_eq(pipeline__counters(p)->parsed, 4);
	pipeline__free(p);
	fclose(po.out);
	tlines_free(&want);
	run_end(&r);
}

/* (d) a 500 KB event is captured whole, a 5 MB one keeps head and tail and is counted */
Test(audit_tap, large_events_write)
{
	large_case("d1", "write");
}

/* (d) the same through writev (line and newline in separate iovecs) */
Test(audit_tap, large_events_writev)
{
	large_case("d2", "writev");
}

/* (d) the same through pwrite64 */
Test(audit_tap, large_events_pwrite)
{
	large_case("d3", "pwrite");
}

/* (e) another process writing the same file, and the apiserver writing another file */
Test(audit_tap, other_process_and_other_file_not_captured)
{
	struct capture_opts co = {0};
	struct tlines want = {0};
	char input[400], other[400], impostor[400], other_file[400];
	pid_t a, b;
	int st;
	struct run r;

	run_start(&r, "e", &co);
	snprintf(input, sizeof(input), "%s/in.log", r.dir);
	snprintf(other_file, sizeof(other_file), "%s/log/other.log", r.dir);
	snprintf(impostor, sizeof(impostor), "%s/not-apiserver", r.dir);
	snprintf(other, sizeof(other), "%s/impostor-lines", r.dir);
	sample_input(input);
	cr_assert_eq(symlink(STANDIN, impostor), 0);
	{
		char *argv_b[] = {impostor, "--audit-log-path", r.path, "--generate",
				  "300",    "--rate",		"3000", "--exit-when-done",
				  NULL};
		char *argv_a[] = {STANDIN, "--audit-log-path", r.path,	   "--input",
				  input,   "--repeat",	       "2",	   "--rate",
				  "3000",  "--other-file",     other_file, "--exit-when-done",
				  NULL};

		b = spawn_argv(argv_b);
		a = spawn_argv(argv_a);
		cr_assert_eq(run_until_exit(r.c, a, 60), 0);
		cr_assert_eq(waitpid(b, &st, 0), b);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	/* exactly the apiserver's lines, in its order: the input twice */
	tlines_read_file(&want, input);
	tlines_read_file(&want, input);
	tlines_assert_equal(&r.got, &want);
	for (size_t i = 0; i < r.got.n; i++)
		cr_assert_null(strstr(r.got.v[i].data, "\"auditID\":\"gen-"),
			       "the impostor's line %zu was captured", i);
	/* and the file really holds both writers' lines */
	{
		struct tlines file = {0};

		tlines_read_file(&file, r.path);
		cr_assert_eq(file.n, want.n + 300);
		tlines_free(&file);
	}
	assert_nothing_lost(r.c);
	tlines_free(&want);
	run_end(&r);
}

/* is @got an in-order subsequence of @want, with each line whole? */
static void assert_subsequence(const struct tlines *got, const struct tlines *want)
{
	size_t j = 0;

	for (size_t i = 0; i < got->n; i++) {
		while (j < want->n && (want->v[j].len != got->v[i].len ||
				       memcmp(want->v[j].data, got->v[i].data, got->v[i].len)))
			j++;
		cr_assert(j < want->n, "captured line %zu is not a line the stand-in wrote", i + 1);
		j++;
	}
}

static void overflow_case(const char *tag, const char *line_bytes)
{
	struct capture_opts co = {.ring_bytes = 64 * 1024};
	struct tlines want = {0};
	struct capture_stats s;
	const long sent = 3000;
	struct run r;
	pid_t pid;
	int st;

	run_start(&r, tag, &co);
	{
		char *argv[] = {STANDIN,
				"--audit-log-path",
				r.path,
				"--generate",
				"3000",
				"--line-bytes",
				(char *)line_bytes,
				"--exit-when-done",
				NULL};

		/* a burst with nobody reading: the 64 KB ring must overflow */
		pid = spawn_argv(argv);
		cr_assert_eq(waitpid(pid, &st, 0), pid);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	capture__stop(r.c);
	capture__stats(r.c, &s);
	tlines_read_written(&want, r.logdir);
	cr_assert_eq(want.n, (size_t)sent);
	cr_assert_eq(s.tap[KH_TAP_WRITES], (uint64_t)sent);
	cr_assert_gt(s.tap[KH_TAP_LOST_WRITES], 0, "the ring did not overflow");
	cr_assert_gt(s.reasm.writes, 0);
	/* sent = delivered + counted lost, exactly */
	cr_assert_eq(s.reasm.writes + s.tap[KH_TAP_LOST_WRITES], (uint64_t)sent,
		     "delivered %llu + lost %llu != sent %ld", (unsigned long long)s.reasm.writes,
		     (unsigned long long)s.tap[KH_TAP_LOST_WRITES], sent);
	cr_assert_eq(capture__stats_lost(&s), s.tap[KH_TAP_LOST_WRITES]);
	cr_assert_leq(s.reasm.gap_writes, s.tap[KH_TAP_LOST_WRITES]);
	cr_assert_eq(r.got.n, s.reasm.writes);
	assert_subsequence(&r.got, &want);
	tlines_free(&want);
	run_end(&r);
}

/* (f) one-chunk writes: sent = delivered + counted lost */
Test(audit_tap, ring_overflow_counted_exactly)
{
	overflow_case("f1", "2048");
}

/* (f) three-chunk writes: a write cut mid-way is dropped whole and counted once */
Test(audit_tap, ring_overflow_multichunk_counted_exactly)
{
	overflow_case("f2", "10000");
}

/*
 * Discovery: an apiserver already running is found by the /proc scan (its
 * --audit-log-path=PATH), and its replacement (new pid) by the exec record; every line written
 * after the capture started arrives.
 */
Test(audit_tap, discovery_by_proc_scan_and_exec)
{
	struct capture_opts co = {0};
	struct tlines want = {0};
	char bin[400], arg[500], dir[300], path[400], comm[16];
	size_t k;
	pid_t pid;
	struct run r;

	tap_require_bpf();
	/* a name of its own: the same test running elsewhere on the machine is not ours */
	snprintf(comm, sizeof(comm), "khd-%d", (int)getpid());
	co.comm = comm;
	snprintf(dir, sizeof(dir), "%s", tap_tmpdir("g"));
	snprintf(bin, sizeof(bin), "%s/%s", dir, comm);
	snprintf(path, sizeof(path), "%s/log/audit.log", dir);
	snprintf(arg, sizeof(arg), "--audit-log-path=%s", path);
	{
		char logdir[400];

		snprintf(logdir, sizeof(logdir), "%s/log", dir);
		cr_assert_eq(mkdir(logdir, 0700), 0);
	}
	cr_assert_eq(symlink(STANDIN, bin), 0);
	{
		char *argv[] = {bin,
				arg,
				"--generate",
				"120",
				"--rate",
				"20",
				"--restart-after",
				"60",
				"--restart-mode",
				"spawn",
				"--exit-when-done",
				NULL};

		pid = spawn_argv(argv);
	}
	usleep(500 * 1000); /* it has written ~10 lines before the capture starts */
	memset(&r, 0, sizeof(r));
	co.line_fn = tap_collect;
	co.line_ctx = &r.got;
	cr_assert_eq(capture__new(&co, &r.c), 0);
	cr_assert_eq(run_until_exit(r.c, pid, 60), 0);
	snprintf(path, sizeof(path), "%s/log", dir);
	tlines_read_written(&want, path);
	cr_assert_eq(want.n, 120);
	cr_assert_geq(r.got.n, 60, "only %zu lines captured", r.got.n);
	/*
	 * The capture is exactly the file's tail from some line on, and that line was written by
	 * the first process (found by the scan), not only by its replacement (found by exec).
	 */
	cr_assert_leq(r.got.n, want.n, "captured %zu lines, %zu written", r.got.n, want.n);
	k = want.n - r.got.n;
	cr_assert_lt(k, 60, "the running apiserver's lines were not captured (from line %zu)", k);
	for (size_t i = 0; i < r.got.n; i++)
		cr_assert(r.got.v[i].len == want.v[k + i].len &&
			      !memcmp(r.got.v[i].data, want.v[k + i].data, r.got.v[i].len),
			  "captured line %zu is not written line %zu", i + 1, k + i + 1);
	assert_nothing_lost(r.c);
	cr_assert_geq(tap_counter(r.c, KH_TAP_TARGET_EXECS), 1);
	tlines_free(&want);
	capture__free(r.c);
	tlines_free(&r.got);
	rm_rf(dir);
}
