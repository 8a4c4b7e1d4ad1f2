/* SPDX-License-Identifier: MIT */
/* pdyndns: a PowerDNS pipe backend that answers A/AAAA questions by rotating through
 * address lists, and SOA/NS for its zone. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include "check.h"
#include "config.h"
#include "control.h"
#include "ctlcmd.h"
#include "ctldir.h"
#include "daemon.h"
#include "httpmetrics.h"
#include "hub.h"
#include "listen.h"
#include "log.h"
#include "scrape.h"
#include "session.h"
#include "sharedrot.h"
#include "status.h"
#include "waker.h"

/* _exit(0), after the leak check a sanitizer build would have made at exit: memory lost
 * while serving is found so; what is still in use is the kernel's to take back. */
static _Noreturn void exit_now(void)
{
#if defined(__SANITIZE_ADDRESS__)
	__lsan_do_leak_check();
#endif
	_exit(0);
}

/* Descriptors 0, 1 and 2 must be what they say before anything opens another: a closed one
 * would be taken by the next socket, eventfd or log, and the pipe protocol or log lines
 * would go there. Coprocess mode needs stdin and stdout; the others get /dev/null. */
static int check_std_fds(bool coprocess)
{
	for (int fd = 0; fd <= 2; fd++) {
		int nul;

		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		if (coprocess && fd < 2) {
			if (fcntl(2, F_GETFD) >= 0)
				fprintf(
				    stderr,
				    "pdyndns: %s is closed: as a coprocess pdyndns reads PowerDNS's "
				    "questions on stdin and answers on stdout (set it as pipe-command, or "
				    "use --listen for socket mode)\n",
				    fd == 0 ? "stdin" : "stdout");
			return -EBADF;
		}
		nul = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
		if (nul < 0)
			return -errno;
		if (nul != fd) { /* cannot be: the lowest free descriptor is fd */
			close(nul);
			return -EBADF;
		}
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: pdyndns --config FILE [--control-dir DIR] [--no-shared-rotation]\n"
	    "                                     serve the PowerDNS pipe protocol on stdin/stdout\n"
	    "       pdyndns --config FILE --listen PATH [--control-dir DIR]\n"
	    "               [--metrics-listen ADDR:PORT]\n"
	    "                                     serve it on a unix socket, to every PowerDNS thread\n"
	    "       pdyndns --check --config FILE [--pdns-config PDNSCONF]\n"
	    "                                     validate FILE and every address file it names,\n"
	    "                                     and PowerDNS's settings against them\n"
	    "       pdyndns --version | --help\n"
	    "\n"
	    "Options:\n"
	    "  -c, --config FILE  the JSON configuration (schema: config-schema.json)\n"
	    "  -n, --check        print every problem and exit 0 (valid) or 1 (not)\n"
	    "  -p, --pdns-config PDNSCONF\n"
	    "                     with --check: read PowerDNS's config (and its include-dir) and\n"
	    "                     report every setting that conflicts with FILE\n"
	    "  -l, --listen PATH  socket mode: serve on a unix stream socket at PATH (a socket\n"
	    "                     passed by systemd, named \"pipe\", is used instead)\n"
	    "  -m, --metrics-listen ADDR:PORT\n"
	    "                     socket mode: serve GET /metrics (Prometheus) over HTTP on\n"
	    "                     ADDR:PORT, e.g. 127.0.0.1:9153 or [::1]:9153 (a socket passed by\n"
	    "                     systemd, named \"metrics\", is used instead)\n"
	    "  --no-shared-rotation\n"
	    "                     coprocess mode: rotate with this copy's own counters; by default\n"
	    "                     the copies PowerDNS starts (one per thread) share one rotation\n"
	    "                     through DIR/" SHAREDROT_FILE " (DIR: the control directory)\n"
	    "  -s, --shared-rotation\n"
	    "                     the default, kept for the command lines that name it\n"
	    "  -C, --control-dir DIR\n"
	    "                     where to put the control socket for pdynctl (default: the\n"
	    "                     config's control_dir, else " CONTROL_DEFAULT_DIR ")\n"
	    "  -V, --version      print the version and exit\n"
	    "  -h, --help         print this help and exit\n");
}

/* The counters' slots for the first snapshot. */
static int init_metrics(struct daemon *d)
{
	struct metrics_slot *slots;

	if (metrics_prepare(metrics_shape(&d->sv.metrics), d->sv.snap, NULL, 0, &slots) < 0)
		return -ENOMEM;
	metrics_carry(&d->sv.metrics, d->sv.snap, slots, NULL, 0);
	return 0;
}

/* Loads the config and lists for serving; a failure leaves d->sv.snap NULL with the reason. */
static void load_initial(struct daemon *d)
{
	struct config *c = NULL;
	struct diag diag;
	int r;

	diag_init(&diag);
	file_id_clock(&d->config_read_at);
	if (file_id_get(d->config_path, &d->config_id) < 0)
		d->config_id = (struct file_id){0};
	r = config_load(d->config_path, &diag, &c);
	if (r >= 0) {
		log_set_level((int)c->loglevel);
		r = snapshot_new(c, NULL, &diag, &d->sv.snap);
	}
	log_diag(LOG_ERR, &diag);
	if (r < 0) {
		d->startup_error = diag_join(&diag, "; ");
		if (!d->startup_error || !*d->startup_error) {
			free(d->startup_error);
			d->startup_error = strdup(strerror(-r));
		}
		/* reported once: reloads say it again only if the problem changes */
		d->config_error = d->startup_error ? strdup(d->startup_error) : NULL;
		log_at(LOG_ERR, &(struct diag_at){.file = d->config_path},
		       "%s: config not loaded; answering nothing until it is fixed",
		       d->config_path);
	} else {
		d->sv.generation = 1;
		log_set_generation(1);
		hub_log_warnings(d->sv.snap);
		if (rotation_resize(&d->sv.rot, d->sv.snap->n_handlers) < 0 ||
		    init_metrics(d) < 0) {
			d->sv.snap = snapshot_free(d->sv.snap);
			d->startup_error = strdup("out of memory");
		} else {
			char counts[CONFIG_COUNTS_MAX];

			config_counts(d->sv.snap->config, counts);
			log_at(LOG_INFO, &(struct diag_at){.file = d->config_path},
			       "%s: zone %s, %s, %llu addresses%s", d->config_path,
			       d->sv.snap->config->domain, counts,
			       (unsigned long long)d->sv.snap->n_addresses,
			       d->sv.snap->n_failed || d->sv.snap->n_drained
				   ? "; some handlers serve nothing (see above)"
				   : "");
		}
	}
	diag_clear(&diag);
}

static void *load_initial_thread(void *d)
{
	load_initial(d);
	return NULL;
}

/* The first load runs on a thread of its own, joined at once: what it allocates (the config
 * and the lists, all of them at start-up) then lives in another malloc arena than the loop's.
 * The reload worker, started next, takes that arena over (glibc hands a finished thread's
 * arena to the next new thread), so every snapshot lives there, and the loop's own arena
 * stays small: its mallocs (a status's JSON) never walk the bins of a 100,000-handler heap,
 * and a trim after a snapshot is freed does not hold the loop's arena lock for long. */
static void load_initial_off_loop(struct daemon *d)
{
	pthread_t t;

	if (pthread_create(&t, NULL, load_initial_thread, d) != 0)
		load_initial(d);
	else
		pthread_join(t, NULL);
}

static int on_term(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int on_hup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	(void)hub_reload(userdata, RELOAD_FULL, "SIGHUP");
	return 0;
}

/* The loop. PowerDNS waits for each answer before it asks again, so the pipe is the hot
 * path: one blocking read and one write per lookup. Everything else (reloads, watches,
 * control clients, signals, timers) is sd-event's, dispatched here between two reads when
 * the waker says it has work (waker.h). */
static int run(struct daemon *d, struct session *s)
{
	struct waker *w = NULL;
	int r, fl = fcntl(s->in_fd, F_GETFL);

	if (fl >= 0 && (fl & O_NONBLOCK)) /* the read must block, not spin */
		(void)fcntl(s->in_fd, F_SETFL, fl & ~O_NONBLOCK);
	/* arms sd-event's timers and runs what is already due */
	while ((r = sd_event_run(d->event, 0)) > 0)
		;
	if (r < 0)
		return r;
	r = waker_start(sd_event_get_fd(d->event), &w);
	if (r < 0)
		return r;
	for (;;) {
		if (waker_begin(w)) {
			while ((r = sd_event_run(d->event, 0)) > 0 &&
			       sd_event_get_state(d->event) != SD_EVENT_FINISHED)
				;
			waker_end(w);
			if (sd_event_get_state(d->event) == SD_EVENT_FINISHED) {
				r = 0; /* SIGTERM or SIGINT */
				break;
			}
			if (r < 0)
				break;
		}
		r = session_read(s); /* 0 also when the waker interrupted it */
		if (r < 0)
			log_error("pipe session ends: %s", strerror(-r));
		if (r != 0) {
			r = r < 0 ? r : 0; /* EOF: PowerDNS is gone */
			break;
		}
	}
	waker_stop(w);
	return r;
}

/* Sockets from systemd (socket activation): the one named "control" is the control
 * socket, the one named "metrics" the HTTP endpoint's, the other one the pipe socket. */
static void activated_sockets(int *pipe_fd, int *control_fd, int *metrics_fd)
{
	char **names = NULL;
	int n = sd_listen_fds_with_names(1, &names);

	*pipe_fd = *control_fd = *metrics_fd = -1;
	for (int i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + i;
		const char *name = names ? names[i] : "";

		if (strcmp(name, "control") == 0 && *control_fd < 0)
			*control_fd = fd;
		else if (strcmp(name, "metrics") == 0 && *metrics_fd < 0 &&
			 sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) > 0)
			*metrics_fd = fd;
		else if (*pipe_fd < 0 && sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) > 0)
			*pipe_fd = fd;
		else {
			log_warning("ignoring socket %d (%s) passed by systemd", fd, name);
			close(fd);
		}
	}
	for (int i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

/* The HTTP endpoint for Prometheus on the socket systemd passed (fd >= 0), else on addr
 * (NULL: none). Returns 0 or a negative errno, with the reason logged. */
static int start_metrics(struct daemon *d, const char *addr, int fd, struct httpmetrics **out)
{
	char why[HTTPMETRICS_WHY_MAX];
	int r;

	*out = NULL;
	if (fd < 0 && !addr)
		return 0;
	if (fd < 0 && (fd = httpmetrics_bind(addr, why)) < 0) {
		log_error("--metrics-listen: %s", why);
		return fd;
	}
	r = httpmetrics_new(d->event, fd, &scrape_source, d, out);
	if (r >= 0 && (r = httpmetrics_start(*out)) < 0)
		*out = httpmetrics_free(*out);
	if (r == -ENOMEM)
		log_error("metrics: out of memory");
	return r;
}

/* Socket mode: everything is the loop's. */
static int serve_socket(struct daemon *d, const char *path, int fd, const char *metrics_addr,
			int metrics_fd, bool *reported)
{
	struct httpmetrics *hm = NULL;
	int r = start_metrics(d, metrics_addr, metrics_fd, &hm);

	if (r >= 0)
		r = listener_new(d->event, path, fd, &d->sv, &daemon_session_ops, d, &d->listener);
	if (r < 0) {
		*reported = true; /* start_metrics() or listener_new() said why */
		httpmetrics_free(hm);
		return r;
	}
	(void)sd_event_set_watchdog(d->event, true);
	if (d->sv.snap)
		hub_notify(d, true, NULL);
	r = listener_run(d->listener);
	(void)sd_notify(0, "STOPPING=1");
	httpmetrics_free(hm);
	d->listener = listener_free(d->listener);
	return r;
}

static int serve(struct daemon *d, const char *listen_path, const char *metrics_addr,
		 bool shared_rotation)
{
	struct session *s = NULL;
	sigset_t mask;
	int r, pipe_fd, control_fd, metrics_fd;
	bool reported = false;

	signal(SIGPIPE, SIG_IGN);
	waker_block_signal(); /* before any thread starts */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	r = sd_event_default(&d->event);
	if (r < 0)
		goto out;
	r = sd_event_add_signal(d->event, NULL, SIGTERM, on_term, NULL);
	if (r >= 0)
		r = sd_event_add_signal(d->event, NULL, SIGINT, on_term, NULL);
	if (r >= 0)
		r = sd_event_add_signal(d->event, NULL, SIGHUP, on_hup, d);
	if (r >= 0)
		r = hub_start(d);
	activated_sockets(&pipe_fd, &control_fd, &metrics_fd);
	if (r >= 0) {
		const struct config *c = d->sv.snap ? d->sv.snap->config : NULL;

		if (!d->control_dir)
			d->control_dir =
			    strdup(c && c->control_dir ? c->control_dir : CONTROL_DEFAULT_DIR);
		d->control_group = c && c->control_group ? strdup(c->control_group) : NULL;
		/* without a control socket pdyndns still serves PowerDNS: never fatal */
		if (control_fd >= 0) {
			/* systemd's: the config's control_dir no longer decides anything */
			d->control_activated = d->control_dir_forced = true;
			(void)control_new_fd(d->event, control_fd, &ctlcmd_ops, d, &d->control);
		} else
			(void)control_new(d->event, d->control_dir, d->control_group, &ctlcmd_ops,
					  d, &d->control);
	}
	if (r >= 0 && (listen_path || pipe_fd >= 0)) {
		r = serve_socket(d, listen_path, pipe_fd, metrics_addr, metrics_fd, &reported);
		goto out;
	}
	if (metrics_fd >= 0) {
		log_warning("ignoring the metrics socket passed by systemd: the HTTP endpoint is "
			    "socket mode's (a copy answers pdynctl metrics)");
		close(metrics_fd);
	}
	/* Coprocess: PowerDNS's own service manager must not take our messages for its own. */
	unsetenv("NOTIFY_SOCKET");
	d->describe_copies = ctldir_describe_copies;
	if (r >= 0 && !shared_rotation)
		log_info("rotation: this copy's own (--no-shared-rotation): the copies PowerDNS "
			 "starts, one per thread, rotate apart");
	/* the copy's own counters are fresh at start: the shared ones take over */
	if (r >= 0 && shared_rotation &&
	    sharedrot_new(d->event, d->control_dir, &d->sv, &d->sharedrot) == 0 && d->sv.snap)
		(void)sharedrot_attach(d->sharedrot, d->sv.snap, &d->sv.rot);
	/* the copies elect one prober for the health checks */
	if (r >= 0)
		(void)hub_share_health(d, d->control_dir);
	if (r >= 0)
		r = session_new(&d->sv, &daemon_session_ops, d, STDIN_FILENO, STDOUT_FILENO, &s);
	if (r < 0)
		goto out;
	r = run(d, s);
	if (r >= 0) {
		/* PowerDNS is gone (EOF) or stops us: nothing is left to hand over or to save.
		 * Exit at once, without waiting for a build in progress, freeing every list or
		 * removing the inotify watches one by one: the kernel takes it all back in one go.
		 * Only the control socket's name must go. */
		d->control = control_free(d->control);
		exit_now();
	}
out:
	if (r < 0 && !reported)
		log_error("cannot serve: %s", strerror(-r));
	session_free(s);
	d->control = control_free(d->control);
	d->sharedrot = sharedrot_free(d->sharedrot);
	hub_stop(d);
	d->event = sd_event_unref(d->event);
	return r < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check", no_argument, NULL, 'n'},
	    {"pdns-config", required_argument, NULL, 'p'},
	    {"control-dir", required_argument, NULL, 'C'},
	    {"listen", required_argument, NULL, 'l'},
	    {"shared-rotation", no_argument, NULL, 's'},
	    {"no-shared-rotation", no_argument, NULL, 'S'},
	    {"metrics-listen", required_argument, NULL, 'm'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct daemon d = {.started = time(NULL)};
	const char *listen_path = NULL, *pdns_config = NULL, *metrics_addr = NULL;
	bool check = false, shared_rotation = true;
	int c, r;

	/* No fastbins: freed small blocks then merge as they are freed, where fastbins would
	 * pile them up until the next large malloc sorts them all at once. Parsing a config of
	 * 100,000 handlers (a JSON tree built and freed) costs a fifth less this way, and a
	 * large malloc on the loop never pays for the frees before it. */
	(void)mallopt(M_MXFAST, 0);
	while ((c = getopt_long(argc, argv, "c:np:C:l:m:sVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': d.config_path = optarg; break;
		case 'n': check = true; break;
		case 'p': pdns_config = optarg; break;
		case 'C':
			d.control_dir = strdup(optarg);
			d.control_dir_forced = true;
			break;
		case 'l': listen_path = optarg; break;
		case 'm': metrics_addr = optarg; break;
		case 's': shared_rotation = true; break;
		case 'S': shared_rotation = false; break;
		case 'V': printf("pdyndns %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc || !d.config_path) {
		fprintf(stderr, "pdyndns: %s\n",
			optind < argc ? "unexpected argument" : "--config FILE is required");
		usage(stderr);
		return 2;
	}
	if (pdns_config && !check) {
		fprintf(stderr, "pdyndns: --pdns-config goes with --check\n");
		usage(stderr);
		free(d.control_dir);
		return 2;
	}
	if (metrics_addr && (check || (!listen_path && sd_listen_fds(0) <= 0))) {
		fprintf(stderr, "pdyndns: --metrics-listen goes with --listen (socket mode); a "
				"coprocess answers pdynctl metrics\n");
		usage(stderr);
		free(d.control_dir);
		return 2;
	}
	if (check)
		return check_print(d.config_path, pdns_config, stdout, stderr);

	if (check_std_fds(!listen_path && sd_listen_fds(0) <= 0) < 0) {
		free(d.control_dir);
		return 2;
	}
	log_init();
	load_initial_off_loop(&d);
	r = serve(&d, listen_path, metrics_addr, shared_rotation);
	snapshot_free(d.sv.snap);
	rotation_done(&d.sv.rot);
	metrics_done(&d.sv.metrics);
	health_done(&d.sv.health);
	free(d.startup_error);
	free(d.last_reload_result);
	free(d.config_error);
	free(d.control_dir);
	free(d.control_group);
	return r;
}
