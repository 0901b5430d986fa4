/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-user sockets and the control thread.
 *
 * One control thread (epoll) serves every socket of the process: listening
 * sockets, client re-dial timers, frontend connections, and an eventfd that
 * the SIGBUS handler and vhu_sock_destroy() use to wake it. All socket and
 * device state is changed with vhu_ctl_mutex held, by the control thread or
 * by vhu_sock_create()/vhu_sock_destroy(). epoll events carry a socket slot
 * and a token, so an event that was already queued for a connection that
 * has since been closed (and whose fd number was reused) is ignored.
 *
 * Security model: the peer on a connection is untrusted (see vhu_msg.c).
 * A server socket gets its mode and owner before listen(), so nobody can
 * connect while it still has the default permissions. Only one frontend is
 * served per socket: a second concurrent connection is accepted and closed.
 * Nothing here can raise SIGPIPE: replies use MSG_NOSIGNAL.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_string_fns.h>

#include "vhu_internal.h"

#define VHU_SOCKS_MAX 1024
#define VHU_REDIAL_MAX_MS 1000
#define VHU_LISTEN_BACKLOG 8

enum vhu_ep_kind { VHU_EP_WAKE, VHU_EP_LISTEN, VHU_EP_CONN, VHU_EP_TIMER };

/* Serialises create/destroy (thread start and stop); never taken by the control thread. */
static pthread_mutex_t vhu_api_mutex = PTHREAD_MUTEX_INITIALIZER;
/* Recursive: owner callbacks run with it held and may call the getters or destroy. */
static pthread_mutex_t vhu_ctl_mutex = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static struct vhu_sock *vhu_socks[VHU_SOCKS_MAX];
static uint32_t vhu_nb_socks;
static uint32_t vhu_next_token = 1;
static int vhu_epfd = -1;
static int vhu_wake_fd = -1;
static pthread_t vhu_ctl_tid;
static bool vhu_ctl_running;
static bool vhu_ctl_stop;

static const char *const vhu_stat_names[] = {
#define VHU_STAT_NAME(n, d) #n,
    VHU_STATS_LIST(VHU_STAT_NAME)
#undef VHU_STAT_NAME
};

void
vhu_ctl_wake_async(void)
{
	uint64_t one = 1;
	int fd = __atomic_load_n(&vhu_wake_fd, __ATOMIC_RELAXED);

	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0) {
		/* The counter is saturated or closed: a wake-up is pending anyway. */
	}
}

static uint32_t
vhu_token_new(void)
{
	uint32_t t = vhu_next_token++;

	if (vhu_next_token == 0)
		vhu_next_token = 1;
	return t;
}

static int
vhu_ep_add(int fd, enum vhu_ep_kind kind, uint32_t slot, uint32_t token)
{
	struct epoll_event ev = {
	    .events = EPOLLIN,
	    /* token * 2^32: clang 14's analyzer misreads the equivalent shift. */
	    .data.u64 = ((uint64_t)token * (UINT64_C(1) << 32)) | ((uint64_t)slot << 8) | kind,
	};

	return epoll_ctl(vhu_epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void
vhu_timer_arm(struct vhu_sock *s, uint32_t ms)
{
	struct itimerspec its = {
	    .it_value = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000},
	};

	if (timerfd_settime(s->timer_fd, 0, &its, NULL) < 0)
		VHU_LOG(ERR, s, "cannot arm the re-dial timer: %s", strerror(errno));
}

static void
vhu_conn_open(struct vhu_sock *s, int fd)
{
	uint32_t token = vhu_token_new();
	int rc;

	rc = vhu_ep_add(fd, VHU_EP_CONN, s->slot, token);
	if (rc < 0) {
		VHU_LOG(ERR, s, "cannot watch the connection: %s", strerror(-rc));
		close(fd);
		if (s->conf.client)
			vhu_timer_arm(s, s->redial_ms);
		return;
	}
	s->dev.fd = fd;
	s->conn_token = token;
	vhu_stat_inc(s, VHU_STAT_connections);
	VHU_LOG(INFO, s, "frontend connected");
}

void
vhu_conn_close(struct vhu_sock *s, const char *why)
{
	int fd = s->dev.fd;

	if (fd < 0)
		return;
	VHU_LOG(NOTICE, s, "frontend disconnected: %s", why);
	epoll_ctl(vhu_epfd, EPOLL_CTL_DEL, fd, NULL);
	s->conn_token = 0;
	vhu_dev_teardown(&s->dev);
	close(fd);
	s->dev.fd = -1;
	vhu_stat_inc(s, VHU_STAT_disconnects);
	if (s->ops.connection_closed != NULL)
		s->ops.connection_closed(s, s->ctx);
	if (s->conf.client && !s->doomed) {
		s->redial_ms = s->conf.reconnect_ms;
		vhu_timer_arm(s, s->redial_ms);
	}
}

static void
vhu_client_dial(struct vhu_sock *s)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	if (s->dev.fd >= 0)
		return;
	memcpy(sun.sun_path, s->path, sizeof(s->path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		s->redial_ms = s->conf.reconnect_ms;
		vhu_conn_open(s, fd);
		return;
	}
	VHU_LOG(DEBUG, s, "dial failed (%s), retry in %u ms", strerror(errno), s->redial_ms);
	if (fd >= 0)
		close(fd);
	vhu_timer_arm(s, s->redial_ms);
	s->redial_ms = RTE_MIN(s->redial_ms * 2, (uint32_t)VHU_REDIAL_MAX_MS);
}

/* The peer of the current connection closed it (or its sending side). */
static bool
vhu_conn_hung_up(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLRDHUP};

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR)) != 0;
}

static void
vhu_server_accept(struct vhu_sock *s)
{
	int fd;

	for (;;) {
		fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				VHU_LOG(ERR, s, "accept: %s", strerror(errno));
			return;
		}
		/*
		 * A frontend that reconnects at once: its hang-up may sit in the
		 * same epoll batch behind this accept. It cannot send anything
		 * any more, so serve the new connection instead of refusing it.
		 */
		if (s->dev.fd >= 0 && vhu_conn_hung_up(s->dev.fd))
			vhu_conn_close(s, "connection closed by peer");
		if (s->dev.fd >= 0) {
			VHU_LOG(WARNING, s, "second frontend connection refused");
			close(fd);
			continue;
		}
		vhu_conn_open(s, fd);
	}
}

static void
vhu_ctl_on_wake(void)
{
	struct vhu_sock *s;
	uint64_t v;
	int slot;

	if (read(vhu_wake_fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing pending. */
	}
	while ((slot = vhu_mem_sigbus_next()) >= 0) {
		s = vhu_socks[slot];
		if (s == NULL || s->dev.fd < 0)
			continue;
		vhu_stat_inc(s, VHU_STAT_sigbus);
		VHU_LOG(ERR, s,
			"guest memory or dirty log access past the end of its file (SIGBUS)");
		vhu_conn_close(s, "guest memory or dirty log file shrunk");
	}
}

static void
vhu_ctl_on_event(const struct epoll_event *ev)
{
	enum vhu_ep_kind kind = (enum vhu_ep_kind)(ev->data.u64 & 0xff);
	uint32_t slot = (uint32_t)(ev->data.u64 >> 8) & 0xffffff;
	uint32_t token = (uint32_t)(ev->data.u64 >> 32);
	struct vhu_sock *s;
	uint64_t v;
	int rc;

	if (kind == VHU_EP_WAKE) {
		vhu_ctl_on_wake();
		return;
	}
	s = slot < VHU_SOCKS_MAX ? vhu_socks[slot] : NULL;
	if (s == NULL || s->doomed)
		return;
	switch (kind) {
	case VHU_EP_LISTEN:
		if (token == s->listen_token)
			vhu_server_accept(s);
		break;
	case VHU_EP_TIMER:
		if (token == s->timer_token && read(s->timer_fd, &v, sizeof(v)) == sizeof(v))
			vhu_client_dial(s);
		break;
	case VHU_EP_CONN:
		if (token != s->conn_token || s->dev.fd < 0)
			break;
		rc = 0;
		if (ev->events & EPOLLIN)
			rc = vhu_msg_on_readable(&s->dev);
		else if (ev->events & (EPOLLHUP | EPOLLERR))
			rc = -ECONNRESET;
		if (rc == -ECONNRESET)
			vhu_conn_close(s, "connection closed by peer");
		else if (rc == -EAGAIN)
			vhu_conn_close(s, "frontend does not read its replies");
		else if (rc < 0)
			vhu_conn_close(s, strerror(-rc));
		break;
	default:
		break;
	}
}

static void vhu_sock_free_locked(struct vhu_sock *s);

/* The thread is gone or going: forget it (vhu_api_mutex held). */
static void
vhu_ctl_release(void)
{
	int fd = vhu_wake_fd;

	vhu_ctl_running = false;
	__atomic_store_n(&vhu_wake_fd, -1, __ATOMIC_RELAXED);
	close(fd);
	close(vhu_epfd);
	vhu_epfd = -1;
}

static void *
vhu_ctl_main(void *arg)
{
	struct epoll_event ev[32];
	uint32_t i;
	int n, k;

	RTE_SET_USED(arg);
	for (;;) {
		n = epoll_wait(vhu_epfd, ev, RTE_DIM(ev), -1);
		if (n < 0 && errno != EINTR)
			break;
		pthread_mutex_lock(&vhu_ctl_mutex);
		if (vhu_ctl_stop) {
			pthread_mutex_unlock(&vhu_ctl_mutex);
			break;
		}
		for (k = 0; k < n; k++)
			vhu_ctl_on_event(&ev[k]);
		/* Sockets destroyed from a callback are freed here, outside any handler. */
		for (i = 0; i < VHU_SOCKS_MAX; i++)
			if (vhu_socks[i] != NULL && vhu_socks[i]->doomed)
				vhu_sock_free_locked(vhu_socks[i]);
		/*
		 * The last socket went from a callback: nobody will join us, so
		 * stop alone, unless a create holds the API mutex right now.
		 */
		if (vhu_nb_socks == 0 && pthread_mutex_trylock(&vhu_api_mutex) == 0) {
			vhu_ctl_release();
			pthread_detach(pthread_self());
			pthread_mutex_unlock(&vhu_api_mutex);
			pthread_mutex_unlock(&vhu_ctl_mutex);
			break;
		}
		pthread_mutex_unlock(&vhu_ctl_mutex);
	}
	return NULL;
}

/* With vhu_api_mutex held. */
static int
vhu_ctl_start(void)
{
	int rc;

	rc = vhu_mem_sigbus_init();
	if (rc < 0)
		return rc;
	if (vhu_ctl_running)
		return 0;
	vhu_epfd = epoll_create1(EPOLL_CLOEXEC);
	if (vhu_epfd < 0)
		return -errno;
	vhu_wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (vhu_wake_fd < 0) {
		rc = -errno;
		goto err_ep;
	}
	rc = vhu_ep_add(vhu_wake_fd, VHU_EP_WAKE, 0, 0);
	if (rc < 0)
		goto err_wake;
	vhu_ctl_stop = false;
	rc = -pthread_create(&vhu_ctl_tid, NULL, vhu_ctl_main, NULL);
	if (rc < 0)
		goto err_wake;
	pthread_setname_np(vhu_ctl_tid, "vhu-ctl");
	vhu_ctl_running = true;
	return 0;
err_wake:
	close(vhu_wake_fd);
	vhu_wake_fd = -1;
err_ep:
	close(vhu_epfd);
	vhu_epfd = -1;
	return rc;
}

/* With vhu_api_mutex held, not on the control thread. */
static void
vhu_ctl_stop_thread(void)
{
	pthread_mutex_lock(&vhu_ctl_mutex);
	vhu_ctl_stop = true;
	pthread_mutex_unlock(&vhu_ctl_mutex);
	vhu_ctl_wake_async();
	pthread_join(vhu_ctl_tid, NULL);
	vhu_ctl_release();
}

static int
vhu_server_open(struct vhu_sock *s)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, probe, rc;

	memcpy(sun.sun_path, s->path, sizeof(s->path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		rc = -errno;
		if (rc != -EADDRINUSE || lstat(s->path, &st) < 0 || !S_ISSOCK(st.st_mode))
			goto err_close;
		/* A socket file is there: refuse if someone listens, else it is stale. */
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe < 0 || connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0 ||
		    errno != ECONNREFUSED) {
			if (probe >= 0)
				close(probe);
			goto err_close;
		}
		close(probe);
		VHU_LOG(NOTICE, s, "removing stale socket file");
		unlink(s->path);
		if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
			rc = -errno;
			goto err_close;
		}
	}
	/* Permissions before listen(): until then every connect() is refused. */
	if ((s->conf.owner != (uid_t)-1 || s->conf.group != (gid_t)-1) &&
	    chown(s->path, s->conf.owner, s->conf.group) < 0) {
		rc = -errno;
		goto err_unlink;
	}
	if (chmod(s->path, s->conf.mode) < 0 || listen(fd, VHU_LISTEN_BACKLOG) < 0) {
		rc = -errno;
		goto err_unlink;
	}
	s->listen_fd = fd;
	return 0;
err_unlink:
	unlink(s->path);
err_close:
	close(fd);
	return rc;
}

static void
vhu_sock_free_locked(struct vhu_sock *s)
{
	uint16_t i;

	s->doomed = true; /* no re-dial from the close below */
	vhu_conn_close(s, "socket destroyed");
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		unlink(s->path);
	}
	if (s->timer_fd >= 0)
		close(s->timer_fd);
	for (i = 0; i < s->nb_vrqs; i++)
		vrq_free(s->dev.vqs[i].q);
	vhu_socks[s->slot] = NULL;
	vhu_nb_socks--;
	free(s);
}

static int
vhu_conf_check(const struct vhu_sock_conf *conf)
{
	size_t len;

	if (conf == NULL || conf->path == NULL)
		return -EINVAL;
	len = strnlen(conf->path, sizeof(((struct sockaddr_un *)0)->sun_path));
	if (len == 0 || len >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -EINVAL;
	if (conf->max_queue_pairs == 0 || conf->max_queue_pairs > VHU_QUEUE_PAIRS_MAX)
		return -EINVAL;
	return 0;
}

static int
vhu_sock_open_locked(struct vhu_sock *s)
{
	int rc;

	if (!s->conf.client) {
		rc = vhu_server_open(s);
		if (rc < 0)
			return rc;
		s->listen_token = vhu_token_new();
		return vhu_ep_add(s->listen_fd, VHU_EP_LISTEN, s->slot, s->listen_token);
	}
	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->timer_fd < 0)
		return -errno;
	s->timer_token = vhu_token_new();
	rc = vhu_ep_add(s->timer_fd, VHU_EP_TIMER, s->slot, s->timer_token);
	if (rc < 0)
		return rc;
	vhu_client_dial(s);
	return 0;
}

struct vhu_sock *
vhu_sock_create(const struct vhu_sock_conf *conf, const struct vhu_ops *ops, void *ctx)
{
	struct vhu_sock *s;
	uint32_t slot;
	uint16_t i;
	int rc;

	rc = vhu_conf_check(conf);
	if (rc < 0) {
		rte_errno = -rc;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	rte_strlcpy(s->path, conf->path, sizeof(s->path));
	s->conf = *conf;
	s->conf.path = s->path;
	if (s->conf.reconnect_ms == 0 || s->conf.reconnect_ms > VHU_REDIAL_MAX_MS)
		s->conf.reconnect_ms = VHU_REDIAL_MAX_MS;
	if (s->conf.mode == 0)
		s->conf.mode = 0600;
	if (s->conf.mtu == 0)
		s->conf.mtu = 1500;
	s->features_offered = conf->features != 0 ? conf->features : VHU_FEATURES_DEFAULT;
	if (ops != NULL)
		s->ops = *ops;
	s->ctx = ctx;
	s->listen_fd = -1;
	s->timer_fd = -1;
	s->redial_ms = s->conf.reconnect_ms;
	s->nb_vrqs = (uint16_t)(2 * conf->max_queue_pairs);
	vhu_dev_init(&s->dev, s);
	for (i = 0; i < s->nb_vrqs; i++) {
		s->dev.vqs[i].q = vrq_create(s->path, i, conf->numa_node);
		if (s->dev.vqs[i].q == NULL) {
			rc = -ENOMEM;
			goto err_vrq;
		}
	}

	pthread_mutex_lock(&vhu_api_mutex);
	rc = vhu_ctl_start();
	if (rc < 0)
		goto err_api;
	pthread_mutex_lock(&vhu_ctl_mutex);
	for (slot = 0; slot < VHU_SOCKS_MAX; slot++)
		if (vhu_socks[slot] == NULL)
			break;
	if (slot == VHU_SOCKS_MAX) {
		rc = -ENOSPC;
		goto err_ctl;
	}
	s->slot = slot;
	vhu_socks[slot] = s;
	vhu_nb_socks++;
	rc = vhu_sock_open_locked(s);
	if (rc < 0) {
		vhu_sock_free_locked(s);
		s = NULL;
		goto err_ctl;
	}
	VHU_LOG(INFO, s, "%s socket with %u queue pairs", s->conf.client ? "client" : "server",
		conf->max_queue_pairs);
	pthread_mutex_unlock(&vhu_ctl_mutex);
	pthread_mutex_unlock(&vhu_api_mutex);
	return s;

err_ctl:
	pthread_mutex_unlock(&vhu_ctl_mutex);
	if (vhu_nb_socks == 0)
		vhu_ctl_stop_thread();
err_api:
	pthread_mutex_unlock(&vhu_api_mutex);
err_vrq:
	if (s != NULL) {
		for (i = 0; i < s->nb_vrqs; i++)
			vrq_free(s->dev.vqs[i].q);
		free(s);
	}
	rte_errno = -rc;
	return NULL;
}

void
vhu_sock_destroy(struct vhu_sock *s)
{
	if (s == NULL)
		return;
	if (vhu_ctl_running && pthread_equal(pthread_self(), vhu_ctl_tid)) {
		/* From an owner callback: freed by the control thread after the handler. */
		s->doomed = true;
		return;
	}
	pthread_mutex_lock(&vhu_api_mutex);
	pthread_mutex_lock(&vhu_ctl_mutex);
	vhu_sock_free_locked(s);
	pthread_mutex_unlock(&vhu_ctl_mutex);
	if (vhu_nb_socks == 0 && vhu_ctl_running)
		vhu_ctl_stop_thread();
	pthread_mutex_unlock(&vhu_api_mutex);
}

struct vrq *
vhu_sock_vrq(struct vhu_sock *s, uint16_t vq_idx)
{
	return vq_idx < s->nb_vrqs ? s->dev.vqs[vq_idx].q : NULL;
}

uint16_t
vhu_sock_nb_vrqs(const struct vhu_sock *s)
{
	return s->nb_vrqs;
}

bool
vhu_sock_is_ready(const struct vhu_sock *s)
{
	return __atomic_load_n(&s->ready_pub, __ATOMIC_ACQUIRE);
}

uint64_t
vhu_sock_features(const struct vhu_sock *s)
{
	return __atomic_load_n(&s->features_pub, __ATOMIC_RELAXED);
}

const char *
vhu_sock_path(const struct vhu_sock *s)
{
	return s->path;
}

void
vhu_sock_stats_get(const struct vhu_sock *s, struct vhu_stats *st)
{
	unsigned int i;

	for (i = 0; i < VHU_STAT_MAX; i++)
		st->v[i] = __atomic_load_n(&s->stats[i], __ATOMIC_RELAXED);
}

const char *
vhu_stat_name(unsigned int id)
{
	return id < VHU_STAT_MAX ? vhu_stat_names[id] : NULL;
}
