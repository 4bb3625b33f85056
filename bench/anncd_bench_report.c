/* anncd-bench: the results.  A table per call-rate step for a person, one
 * last key=value line for scripts, the same as JSON (--json), and data
 * files with gnuplot scripts that draw them as PNG (--plot DIR).
 */
#include <errno.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "bench/anncd_bench.h"

#define HELD_SHARE	0.95	/* of the asked rate, for a step to count */

extern char **environ;

static double
achieved(const struct bench_step *st)
{
	double d = st->t1 - st->t0;

	return d > 0 ? (double)st->started / d : 0;
}

/* The control thread's CPU time per call set up in the step, in µs, and
 * the setups per second one core of it would carry: what "one control
 * core" means when that core is not shared.  NAN when not measured.
 */
static double
ctl_us(const struct bench_step *st)
{
	if (st->cpu_ms < 0 || st->answers_in == 0)
		return NAN;
	return st->cpu_ms * 1000 / (double)st->answers_in;
}

static double
ctl_cps(const struct bench_step *st)
{
	double us = ctl_us(st);

	return us > 0 ? 1e6 / us : NAN;
}

static int
step_held(const struct bench_step *st)
{
	return st->failed == 0 && st->skipped == 0 && st->started > 0 &&
	       achieved(st) >= HELD_SHARE * st->rate;
}

/* The highest step such that it and every slower one held. */
static void
find_held(struct bench_run *r)
{
	unsigned int i;

	r->held = 0;
	for (i = 0; i < r->n_steps && step_held(&r->step[i]); i++)
		r->held = i + 1;
}

static void
sort_samples(struct bench_run *r)
{
	unsigned int i;

	for (i = 0; i < r->n_steps; i++) {
		bench_sample_sort(&r->step[i].setup_ms);
		bench_sample_sort(&r->step[i].first_rtp_ms);
		bench_sample_sort(&r->step[i].jitter_ms);
	}
}

/* The percentiles a step is reported by, in ms, taken once for the
 * table, the summary line and the plot data alike.
 */
struct pcts {
	double setup50, setup90, setup99, setup_max;
	double first50, first99;
	double jit50, jit99;
};

static void
step_pcts(const struct bench_step *st, struct pcts *p)
{
	p->setup50 = bench_sample_pct(&st->setup_ms, 50);
	p->setup90 = bench_sample_pct(&st->setup_ms, 90);
	p->setup99 = bench_sample_pct(&st->setup_ms, 99);
	p->setup_max = bench_sample_pct(&st->setup_ms, 100);
	p->first50 = bench_sample_pct(&st->first_rtp_ms, 50);
	p->first99 = bench_sample_pct(&st->first_rtp_ms, 99);
	p->jit50 = bench_sample_pct(&st->jitter_ms, 50);
	p->jit99 = bench_sample_pct(&st->jitter_ms, 99);
}

static void
print_table(const struct bench_run *r)
{
	const struct bench_step *st;
	struct pcts p;
	unsigned int i;

	printf("%6s %8s %8s %8s %6s | %-27s | %-13s | %-29s | %s\n", "", "",
	       "", "", "", "setup ms (INVITE to 200)", "first RTP ms",
	       "whole streams checked", "control");
	printf("%6s %8s %8s %8s %6s | %6s %6s %6s %6s | %6s %6s | %5s %5s %4s "
	       "%6s %6s | %6s %7s\n", "cps", "achieved", "started", "answered",
	       "failed", "p50", "p90", "p99", "max", "p50", "p99", "n",
	       "whole", "lost", "jit99", "stream", "us", "1-core");
	for (i = 0; i < r->n_steps; i++) {
		st = &r->step[i];
		step_pcts(st, &p);
		printf("%6u %8.0f %8lu %8lu %6lu | %6.2f %6.2f %6.2f %6.2f | "
		       "%6.2f %6.2f | %5lu %5lu %4lu %6.2f %6u | %6.1f %7.0f%s\n",
		       st->rate, achieved(st), st->started, st->answered,
		       st->failed + st->skipped, p.setup50, p.setup90,
		       p.setup99, p.setup_max, p.first50, p.first99,
		       st->full, st->complete, st->lost, p.jit99,
		       st->max_active, ctl_us(st), ctl_cps(st),
		       step_held(st) ? "" : "  not held");
	}
	printf("jit99: p99 of the streams' RFC 3550 jitter, ms; stream: the "
	       "most calls with media at once\n"
	       "control: anncd's control thread, CPU us per call set up in "
	       "the step, and setups/s one core of it would carry\n");
}

struct totals {
	unsigned long started, answered, failed, full, complete, lost;
	unsigned long seq_errors, ts_errors, refused, timed_out, skipped;
};

static void
add_totals(const struct bench_run *r, struct totals *t)
{
	const struct bench_step *st;
	unsigned int i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < r->n_steps; i++) {
		st = &r->step[i];
		t->started += st->started;
		t->answered += st->answered;
		t->failed += st->failed + st->skipped;
		t->full += st->full;
		t->complete += st->complete;
		t->lost += st->lost;
		t->seq_errors += st->seq_errors;
		t->ts_errors += st->ts_errors;
		t->refused += st->refused;
		t->timed_out += st->timed_out;
		t->skipped += st->skipped;
	}
}

/* The figures of the step held (or of the first step, none held). */
static void
print_summary(const struct bench_run *r)
{
	const struct bench_step *st = &r->step[r->held ? r->held - 1 : 0];
	struct totals t;
	struct pcts p;

	step_pcts(st, &p);
	add_totals(r, &t);
	printf("failed: refused %lu, timed out %lu, no call slot %lu\n",
	       t.refused, t.timed_out, t.skipped);
	printf("cps=%u p50_setup_ms=%.3f p99_setup_ms=%.3f "
	       "p99_first_rtp_ms=%.3f p90_setup_ms=%.3f max_setup_ms=%.3f "
	       "p50_first_rtp_ms=%.3f calls=%lu answered=%lu failed=%lu "
	       "streams_checked=%lu streams_complete=%lu lost=%lu "
	       "seq_errors=%lu ts_errors=%lu rtp_packets=%llu stray_rtp=%llu "
	       "max_streams=%u elapsed_s=%.1f ctl_us_per_setup=%.2f "
	       "ctl_cps_core=%.0f\n",
	       r->held ? st->rate : 0, p.setup50, p.setup99, p.first99,
	       p.setup90, p.setup_max, p.first50, t.started, t.answered,
	       t.failed, t.full, t.complete, t.lost, t.seq_errors,
	       t.ts_errors, (unsigned long long)r->rtp_packets,
	       (unsigned long long)r->stray_rtp, st->max_active,
	       r->elapsed_s, ctl_us(st), ctl_cps(st));
}

/* ---- JSON ---- */

static void
json_num(FILE *f, const char *key, double v, const char *sep)
{
	if (isnan(v))
		fprintf(f, "\"%s\": null%s", key, sep);
	else
		fprintf(f, "\"%s\": %.4f%s", key, v, sep);
}

static void
json_pcts(FILE *f, const char *key, const struct bench_sample *s)
{
	fprintf(f, "\"%s\": {\"n\": %zu, ", key, s->n);
	json_num(f, "p50", bench_sample_pct(s, 50), ", ");
	json_num(f, "p90", bench_sample_pct(s, 90), ", ");
	json_num(f, "p99", bench_sample_pct(s, 99), ", ");
	json_num(f, "max", bench_sample_pct(s, 100), "}");
}

static void
json_step(FILE *f, const struct bench_step *st)
{
	fprintf(f, "    {\"rate\": %u, \"achieved\": %.1f, \"held\": %s, "
		"\"started\": %lu, \"answered\": %lu, \"ended\": %lu, "
		"\"failed\": %lu, \"refused\": %lu, \"timed_out\": %lu, "
		"\"skipped\": %lu, \"max_streams\": %u,\n     ", st->rate,
		achieved(st), step_held(st) ? "true" : "false", st->started,
		st->answered, st->ended, st->failed, st->refused,
		st->timed_out, st->skipped, st->max_active);
	json_num(f, "ctl_cpu_ms", st->cpu_ms >= 0 ? st->cpu_ms : NAN, ", ");
	fprintf(f, "\"answers_in\": %lu, ", st->answers_in);
	json_num(f, "ctl_us_per_setup", ctl_us(st), ",\n     ");
	json_pcts(f, "setup_ms", &st->setup_ms);
	fputs(",\n     ", f);
	json_pcts(f, "first_rtp_ms", &st->first_rtp_ms);
	fprintf(f, ",\n     \"streams\": {\"checked\": %lu, \"complete\": "
		"%lu, \"lost\": %lu, \"seq_errors\": %lu, \"ts_errors\": %lu, ",
		st->full, st->complete, st->lost, st->seq_errors,
		st->ts_errors);
	json_pcts(f, "jitter_ms", &st->jitter_ms);
	fputs("}}", f);
}

static int
write_json(const struct bench_run *r, const char *path)
{
	FILE *f = fopen(path, "w");
	unsigned int i;

	if (f == NULL) {
		fprintf(stderr, "anncd-bench: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	fprintf(f, "{\n  \"held_cps\": %u,\n  \"elapsed_s\": %.2f,\n"
		"  \"rtp_packets\": %llu,\n  \"rtcp_packets\": %llu,\n"
		"  \"stray_rtp\": %llu,\n  \"steps\": [\n",
		r->held ? r->step[r->held - 1].rate : 0, r->elapsed_s,
		(unsigned long long)r->rtp_packets,
		(unsigned long long)r->rtcp_packets,
		(unsigned long long)r->stray_rtp);
	for (i = 0; i < r->n_steps; i++) {
		json_step(f, &r->step[i]);
		fputs(i + 1 < r->n_steps ? ",\n" : "\n", f);
	}
	fprintf(f, "  ],\n  \"interarrival\": {\"bin_ms\": %.1f, \"over\": "
		"%llu, \"counts\": [", BENCH_HIST_BIN_NS / 1e6,
		(unsigned long long)r->hist.over);
	for (i = 0; i < BENCH_HIST_BINS; i++)
		fprintf(f, "%s%llu", i ? ", " : "",
			(unsigned long long)r->hist.bin[i]);
	fputs("]}\n}\n", f);
	return fclose(f) == 0 ? 0 : -EIO;
}

/* ---- plots ---- */

static FILE *
plot_file(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL)
		fprintf(stderr, "anncd-bench: %s: %s\n", path, strerror(errno));
	return f;
}

static int
plot_data(const struct bench_run *r, const char *dir)
{
	const struct bench_step *st;
	FILE *h = plot_file(dir, "interarrival.dat");
	FILE *s = plot_file(dir, "steps.dat");
	struct pcts p;
	unsigned int i;

	if (h == NULL || s == NULL) {
		if (h)
			fclose(h);
		if (s)
			fclose(s);
		return -EIO;
	}
	fputs("# ms packets\n", h);
	for (i = 0; i < BENCH_HIST_BINS; i++)
		if (r->hist.bin[i])
			fprintf(h, "%.2f %llu\n", (i + 0.5) * BENCH_HIST_BIN_NS
				/ 1e6, (unsigned long long)r->hist.bin[i]);
	fputs("# cps achieved setup_p50 p90 p99 max first_rtp_p50 p99 "
	      "streams jitter_p50 jitter_p99 lost\n", s);
	for (i = 0; i < r->n_steps; i++) {
		st = &r->step[i];
		step_pcts(st, &p);
		fprintf(s, "%u %.1f %.4f %.4f %.4f %.4f %.4f %.4f %u %.4f "
			"%.4f %lu\n", st->rate, achieved(st), p.setup50,
			p.setup90, p.setup99, p.setup_max, p.first50,
			p.first99, st->max_active, p.jit50, p.jit99, st->lost);
	}
	return fclose(h) | fclose(s) ? -EIO : 0;
}

static const char plot_script[] =
"set terminal pngcairo size 900,560 noenhanced\n"
"set grid\n"
"set output 'interarrival.png'\n"
"set title 'RTP inter-arrival times, whole streams, ptime %u ms'\n"
"set xlabel 'ms between consecutive packets'\n"
"set ylabel 'packets'\n"
"set logscale y\n"
"plot 'interarrival.dat' using 1:2 with impulses lw 2 title 'packets'\n"
"unset logscale y\n"
"set output 'setup.png'\n"
"set title 'Call setup latency against call rate'\n"
"set xlabel 'calls per second asked'\n"
"set ylabel 'ms'\n"
"set key left top\n"
"plot 'steps.dat' using 1:3 with linespoints title 'INVITE to 200, p50', \\\n"
"     '' using 1:4 with linespoints title 'p90', \\\n"
"     '' using 1:5 with linespoints title 'p99', \\\n"
"     '' using 1:8 with linespoints title 'INVITE to first RTP, p99'\n"
"set output 'jitter.png'\n"
"set title 'RFC 3550 jitter of whole streams against streams open'\n"
"set xlabel 'most calls with media at once'\n"
"set ylabel 'ms'\n"
"plot 'steps.dat' using 9:10 with linespoints title 'jitter p50', \\\n"
"     '' using 9:11 with linespoints title 'jitter p99'\n";

/* gnuplot in DIR on plots.gp; its absence is said, not fatal. */
static void
plot_draw(const char *dir)
{
	char *argv[] = { "gnuplot", "plots.gp", NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st = 0;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addchdir_np(&fa, dir);
	if (posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ) != 0 ||
	    waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		fprintf(stderr, "anncd-bench: gnuplot failed in %s: data and "
			"plots.gp are there\n", dir);
	posix_spawn_file_actions_destroy(&fa);
}

static int
write_plots(const struct bench_run *r, const char *dir)
{
	FILE *g;

	if (plot_data(r, dir) < 0)
		return -EIO;
	g = plot_file(dir, "plots.gp");
	if (g == NULL)
		return -EIO;
	fprintf(g, plot_script, r->o->ptime);
	if (fclose(g) != 0)
		return -EIO;
	plot_draw(dir);
	return 0;
}

int
bench_report(struct bench_run *r)
{
	int rc = 0;

	sort_samples(r);
	find_held(r);
	print_table(r);
	if (r->o->json != NULL)
		rc = write_json(r, r->o->json);
	if (r->o->plot_dir != NULL && write_plots(r, r->o->plot_dir) < 0)
		rc = -EIO;
	print_summary(r);
	fflush(stdout);
	return rc;
}
