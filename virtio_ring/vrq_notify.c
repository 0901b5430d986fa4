/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guarded writes to the frontend's eventfds (call and err).
 *
 * The call fd is an eventfd the frontend also holds, so it controls the open
 * file description: it can clear O_NONBLOCK after we set it, and it can fill
 * the counter to 2^64 - 2, after which our write of 1 blocks. A blocked
 * datapath lcore would stall every queue it polls, and the control thread
 * waiting for that queue's lock. No per-call flag makes an eventfd write
 * non-blocking (RWF_NOWAIT is not honoured, and an anon inode cannot be
 * reopened through /proc for a description of our own).
 *
 * So the write is bounded instead: the lcore stamps the queue before the
 * write, a watchdog thread that scans live queues every few milliseconds
 * interrupts a write stuck for longer than VRQ_NOTIFY_STUCK_MS with a signal
 * whose handler does nothing (installed without SA_RESTART, so write()
 * returns EINTR), and the queue then stops writing to that frontend and is
 * marked broken. The fast path costs two stores around the syscall.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pthread_setname_np */
#endif
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>

#include "vrq_internal.h"

/* Longest a single eventfd write may take before it is interrupted. */
#define VRQ_NOTIFY_STUCK_MS 50
#define VRQ_WATCHDOG_PERIOD_MS 10

static pthread_mutex_t wd_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vrq **wd_queues;
static unsigned int wd_nb, wd_cap;
static bool wd_started;
static int wd_signo;

static void
vrq_wd_signal(int signo)
{
	/* Only here so that a blocked write() returns EINTR. */
	(void)signo;
}

static void *
vrq_wd_main(void *arg)
{
	const struct timespec period = {0, VRQ_WATCHDOG_PERIOD_MS * 1000000L};
	uint64_t stuck = rte_get_tsc_hz() / 1000 * VRQ_NOTIFY_STUCK_MS;
	unsigned int i;

	(void)arg;
	for (;;) {
		nanosleep(&period, NULL);
		pthread_mutex_lock(&wd_lock);
		for (i = 0; i < wd_nb; i++) {
			struct vrq *q = wd_queues[i];
			uint64_t since = __atomic_load_n(&q->wd_since, __ATOMIC_ACQUIRE);

			if (since != 0 && rte_get_tsc_cycles() - since > stuck)
				pthread_kill(q->wd_thread, wd_signo);
		}
		pthread_mutex_unlock(&wd_lock);
	}
	return NULL;
}

/* Caller holds wd_lock. */
static int
vrq_wd_start(void)
{
	struct sigaction sa, old;
	pthread_t tid;
	int signo;

	/* A real-time signal nobody else in a DPDK process uses, left alone if taken. */
	for (signo = SIGRTMIN + 4; signo <= SIGRTMAX; signo++) {
		if (sigaction(signo, NULL, &old) == 0 && old.sa_handler == SIG_DFL &&
		    !(old.sa_flags & SA_SIGINFO))
			break;
	}
	if (signo > SIGRTMAX)
		return -EBUSY;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = vrq_wd_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: the write must fail with EINTR */
	if (sigaction(signo, &sa, NULL) != 0)
		return -errno;
	wd_signo = signo;
	if (pthread_create(&tid, NULL, vrq_wd_main, NULL) != 0)
		return -EAGAIN;
	pthread_setname_np(tid, "vrq-watchdog");
	pthread_detach(tid);
	wd_started = true;
	return 0;
}

int
vrq_wd_register(struct vrq *q)
{
	int ret = 0;

	pthread_mutex_lock(&wd_lock);
	if (!wd_started)
		ret = vrq_wd_start();
	if (ret == 0 && wd_nb == wd_cap) {
		unsigned int cap = wd_cap ? wd_cap * 2 : 64;
		struct vrq **n = realloc(wd_queues, cap * sizeof(*n));

		if (n == NULL) {
			ret = -ENOMEM;
		} else {
			wd_queues = n;
			wd_cap = cap;
		}
	}
	if (ret == 0)
		wd_queues[wd_nb++] = q;
	pthread_mutex_unlock(&wd_lock);
	return ret;
}

/* After this returns the watchdog holds no reference to q: it may be freed. */
void
vrq_wd_unregister(struct vrq *q)
{
	unsigned int i;

	pthread_mutex_lock(&wd_lock);
	for (i = 0; i < wd_nb; i++) {
		if (wd_queues[i] == q) {
			wd_queues[i] = wd_queues[--wd_nb];
			break;
		}
	}
	pthread_mutex_unlock(&wd_lock);
}

/*
 * Write 1 to a frontend eventfd. Returns 0, or -errno; -EINTR/-EAGAIN mean
 * the counter is saturated (a frontend that stopped reading or attacks us),
 * after which the caller must not write to it again.
 */
int
vrq_eventfd_write(struct vrq *q, int fd)
{
	uint64_t one = 1;
	ssize_t n;

	q->wd_thread = pthread_self();
	__atomic_store_n(&q->wd_since, rte_get_tsc_cycles() | 1, __ATOMIC_RELEASE);
	n = write(fd, &one, sizeof(one));
	__atomic_store_n(&q->wd_since, 0, __ATOMIC_RELEASE);
	if (likely(n == (ssize_t)sizeof(one)))
		return 0;
	return n < 0 ? -errno : -EIO;
}
