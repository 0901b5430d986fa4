#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
#
# A hostile vhost-user frontend against a RUNNING vhostd, from outside the
# process (issue 2, "A hostile frontend breaks at most its own connection").
# Python standard library only: AF_UNIX sockets with SCM_RIGHTS
# (socket.send_fds), memfd guest memory, eventfds, struct.
#
# Port A is attacked, one case per connection (a few cases use several).
# After EVERY case the harness asserts, independently of what the case did:
#   - the daemon process is alive (and not a zombie);
#   - port A accepts a new connection and a correct handshake, and its
#     datapath works: a frame posted on the guest's TX ring comes back on the
#     RX ring through the net_ring loopback the port is linked to;
#   - port B does the same within a time bound;
#   - the daemon's fd count (/proc/PID/fd) returns to the idle baseline
#     (a small slack), i.e. no fd of the case leaked. Leaks are reported with
#     the new fd targets.
# Case-specific assertions check the refusal itself: a nack (REPLY_ACK u64
# != 0) where a reply was asked, an empty GET reply, or the daemon closing
# the connection for framing errors; "pipe probes" (write ends of pipes sent
# as fds) show that the daemon closed every fd it was given and refused.
# A daemon log line for the refusal is looked for and noted (the daemon
# rate-limits those lines, so a missing one is only a note).
#
# Topology expected (test_hostile_frontend.sh builds it): A <-> net_ring
# loopback, B <-> net_ring loopback, one queue pair each.
#
# Usage: hostile_frontend.py --a SOCK --b SOCK --pid PID [--log FILE]
#        [--only CASE,...] [--list] [--seed N] [--storm-seconds S]
#        [--mutant NAME]   (a deliberately broken expectation: must FAIL)
# Exit status: 0 all cases passed, 1 some failed, 2 usage/setup error.
import argparse
import errno
import fcntl
import mmap
import os
import random
import select
import socket
import struct
import sys
import threading
import time

# --- protocol (QEMU docs/interop/vhost-user.rst) ---------------------------
GET_FEATURES = 1
SET_FEATURES = 2
SET_OWNER = 3
RESET_OWNER = 4
SET_MEM_TABLE = 5
SET_LOG_BASE = 6
SET_LOG_FD = 7
SET_VRING_NUM = 8
SET_VRING_ADDR = 9
SET_VRING_BASE = 10
GET_VRING_BASE = 11
SET_VRING_KICK = 12
SET_VRING_CALL = 13
SET_VRING_ERR = 14
GET_PROTOCOL_FEATURES = 15
SET_PROTOCOL_FEATURES = 16
GET_QUEUE_NUM = 17
SET_VRING_ENABLE = 18
SEND_RARP = 19
NET_SET_MTU = 20
IOTLB_MSG = 22
GET_CONFIG = 24
SET_CONFIG = 25
RESET_DEVICE = 34
GET_MAX_MEM_SLOTS = 36
ADD_MEM_REG = 37
REM_MEM_REG = 38
SET_STATUS = 39
GET_STATUS = 40

GET_REQS = (GET_FEATURES, GET_PROTOCOL_FEATURES, GET_QUEUE_NUM, GET_VRING_BASE, GET_CONFIG,
            GET_MAX_MEM_SLOTS, GET_STATUS)

F_VERSION = 0x1
F_REPLY = 0x4
F_NEED_REPLY = 0x8

PF_MQ = 1 << 0
PF_LOG_SHMFD = 1 << 1
PF_REPLY_ACK = 1 << 3
PF_BACKEND_REQ = 1 << 5
PF_CONFIG = 1 << 9
PF_CONFIGURE_MEM_SLOTS = 1 << 15
PF_STATUS = 1 << 16

VF_MRG_RXBUF = 1 << 15
VF_LOG_ALL = 1 << 26
VF_PROTOCOL_FEATURES = 1 << 30
VF_VERSION_1 = 1 << 32

VRING_NOFD = 0x100
DESC_F_NEXT = 1
DESC_F_WRITE = 2

HDR = struct.Struct("<III")
U64 = struct.Struct("<Q")
STATE = struct.Struct("<II")
ADDR = struct.Struct("<IIQQQQ")
REGION = struct.Struct("<QQQQ")
DESC = struct.Struct("<QIHH")

# --- guest memory layout of a test guest (offsets in its memfd) ------------
MEM_SIZE = 1 << 20
GPA_BASE = 0x100000000
QVA_BASE = 0x7F5A00000000
QSIZE = 256
VQ_OFF = {0: 0x0000, 1: 0x4000}  # desc +0, avail +0x1000, used +0x2000
RXBUF = 0x10000
TXBUF = 0x40000
BUFSZ = 0x800
NET_HDR = 12  # virtio_net_hdr with num_buffers (VERSION_1)
RX_POSTED = 64

TIMEOUT = 3.0
# A frame's round trip takes milliseconds; this only proves liveness, and a
# loaded CI machine (busy-polling lcores on 2 cores) can stall it for seconds.
LOOP_TIMEOUT = 10.0
B_BOUND = 3.0  # seconds for a full legit handshake + loopback on B
FD_SLACK = 2


class CaseFail(Exception):
    pass


class DaemonDead(Exception):
    pass


def u64(v):
    return U64.pack(v & 0xFFFFFFFFFFFFFFFF)


def state(idx, num):
    return STATE.pack(idx & 0xFFFFFFFF, num & 0xFFFFFFFF)


def region(gpa, size, qva, off):
    m = 0xFFFFFFFFFFFFFFFF
    return REGION.pack(gpa & m, size & m, qva & m, off & m)


def memtable(regions):
    return struct.pack("<II", len(regions), 0) + b"".join(regions)


def vring_addr(idx, desc, used, avail, flags=0, log=0):
    m = 0xFFFFFFFFFFFFFFFF
    return ADDR.pack(idx & 0xFFFFFFFF, flags, desc & m, used & m, avail & m, log & m)


def new_memfd(size, sealing=False, name="vdh-guest"):
    flags = os.MFD_CLOEXEC | (os.MFD_ALLOW_SEALING if sealing else 0)
    fd = os.memfd_create(name, flags)
    os.ftruncate(fd, size)
    return fd


MUTANT = None


class Probe:
    """A pipe whose write end is handed to the daemon: once the daemon (and
    we) closed every copy, the read end sees EOF."""

    def __init__(self):
        self.r, self.w = os.pipe2(os.O_CLOEXEC)

    def give(self):
        return self.w

    def sent(self):
        if MUTANT == "probe-keep":
            return  # as if the daemon kept its copy
        if self.w >= 0:
            os.close(self.w)
            self.w = -1

    def closed_by_peer(self, timeout=TIMEOUT):
        self.sent()
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            r, _, _ = select.select([self.r], [], [], 0.05)
            if r and os.read(self.r, 64) == b"":
                return True
        return False

    def close(self):
        if self.w >= 0:
            os.close(self.w)
            self.w = -1
        if self.r >= 0:
            os.close(self.r)
            self.r = -1


def connect_unix(s, path, timeout):
    """connect() that waits while the listen backlog is full (EAGAIN on a
    socket with a timeout), as a blocking frontend would, up to timeout."""
    end = time.monotonic() + timeout
    while True:
        try:
            s.connect(path)
            return
        except BlockingIOError:
            if time.monotonic() > end:
                raise
            time.sleep(0.002)


class Peer:
    """One frontend connection."""

    def __init__(self, path, timeout=TIMEOUT, rcvbuf=None):
        self.path = path
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.settimeout(timeout)
        connect_unix(self.s, path, timeout)
        self.eof = False

    def raw(self, data, fds=()):
        if fds:
            n = socket.send_fds(self.s, [data], list(fds))
            if n != len(data):
                self.s.sendall(data[n:])
        else:
            self.s.sendall(data)

    def send(self, req, payload=b"", fds=(), flags=F_VERSION, size=None):
        size = len(payload) if size is None else size
        self.raw(HDR.pack(req & 0xFFFFFFFF, flags & 0xFFFFFFFF, size & 0xFFFFFFFF) + payload,
                 fds)

    def _recv_exact(self, n, timeout):
        buf = b""
        self.s.settimeout(timeout)
        while len(buf) < n:
            try:
                b = self.s.recv(n - len(buf))
            except ConnectionResetError:
                b = b""
            if not b:
                self.eof = True
                return None
            buf += b
        return buf

    def recv(self, timeout=TIMEOUT):
        """(request, flags, payload), None at EOF; socket.timeout if silent."""
        h = self._recv_exact(HDR.size, timeout)
        if h is None:
            return None
        req, flags, size = HDR.unpack(h)
        if size > 4096:
            raise CaseFail("reply claims %d bytes of payload" % size)
        p = self._recv_exact(size, timeout) if size else b""
        if p is None:
            raise CaseFail("reply truncated by EOF")
        return req, flags, p

    def reply_to(self, req, timeout=TIMEOUT):
        """A reply to req: its payload, None at EOF. Checks the reply header."""
        r = self.recv(timeout)
        if r is None:
            return None
        rreq, rflags, p = r
        if rreq != req or rflags != (F_VERSION | F_REPLY):
            raise CaseFail("bad reply header: request %d flags 0x%x to request %d" %
                           (rreq, rflags, req))
        return p

    def get_u64(self, req):
        self.send(req)
        p = self.reply_to(req)
        if p is None:
            raise CaseFail("EOF instead of the %d reply" % req)
        if len(p) != 8:
            raise CaseFail("reply to %d has %d bytes" % (req, len(p)))
        return U64.unpack(p)[0]

    def acked(self, req, payload=b"", fds=()):
        """Send with NEED_REPLY; the u64 ack (0 = success)."""
        self.send(req, payload, fds, F_VERSION | F_NEED_REPLY)
        p = self.reply_to(req)
        if p is None:
            raise CaseFail("EOF instead of the ack of request %d" % req)
        if len(p) != 8:
            raise CaseFail("ack of request %d has %d bytes" % (req, len(p)))
        return U64.unpack(p)[0]

    def outcome(self, req, payload=b"", fds=(), flags=F_VERSION | F_NEED_REPLY, size=None,
                timeout=TIMEOUT):
        """Send one request and classify what comes back: for GET requests
        'answered' (a payload) or 'empty' (the refusal); for SET_LOG_BASE
        'ack' is its empty reply; else 'ack' (u64 0), 'nack' (u64 != 0) or
        'reply<N>'; and 'closed' (EOF), 'silent' (nothing in time)."""
        try:
            self.send(req, payload, fds, flags, size)
        except (BrokenPipeError, ConnectionResetError):
            self.eof = True
            return "closed", None
        try:
            p = self.reply_to(req & 0xFFFFFFFF, timeout)
        except socket.timeout:
            return "silent", None
        if p is None:
            return "closed", None
        if req in GET_REQS:
            return ("answered" if p else "empty"), p
        if req == SET_LOG_BASE and not p:
            return "ack", p
        if len(p) != 8:
            return "reply%d" % len(p), p
        return ("nack" if U64.unpack(p)[0] != 0 else "ack"), p

    def wait_eof(self, timeout=TIMEOUT):
        """True if the daemon closes the connection within timeout (replies
        arriving meanwhile are skipped)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.s.settimeout(max(0.01, end - time.monotonic()))
            try:
                b = self.s.recv(65536)
            except socket.timeout:
                return False
            except ConnectionResetError:
                b = b""
            if not b:
                self.eof = True
                return True
        return False

    def finish(self):
        """Half-close and wait until the daemon dropped the connection."""
        if not self.eof:
            try:
                self.s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            if not self.wait_eof(TIMEOUT):
                self.s.close()
                raise CaseFail("daemon kept the connection %.0fs after our EOF" % TIMEOUT)
        self.s.close()

    def close(self):
        self.s.close()


class Guest:
    """A well-behaved frontend + guest driver: memfd memory, split rings,
    one queue pair. handshake() brings the device up, loopback() sends one
    frame on the TX ring and expects it back on the RX ring."""

    def __init__(self, peer, mem_size=MEM_SIZE, sealing=False):
        self.p = peer
        self.mem_size = mem_size
        self.memfd = new_memfd(mem_size, sealing)
        self.mm = mmap.mmap(self.memfd, mem_size)
        self.kick = [os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC) for _ in range(2)]
        self.call = [os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC) for _ in range(2)]
        self.tx_idx = 0
        self.rx_used = 0
        self.seq = 0
        self.features = 0
        self.pf = 0

    @staticmethod
    def qva(off):
        return QVA_BASE + off

    @staticmethod
    def gpa(off):
        return GPA_BASE + off

    def ring(self, q):
        o = VQ_OFF[q]
        return o, o + 0x1000, o + 0x2000

    def table(self):
        return memtable([region(GPA_BASE, self.mem_size, QVA_BASE, 0)])

    def ring_addr(self, q):
        d, a, u = self.ring(q)
        return vring_addr(q, self.qva(d), self.qva(u), self.qva(a))

    def expect_ack(self, what, req, payload=b"", fds=()):
        v = self.p.acked(req, payload, fds)
        if v != 0:
            raise CaseFail("%s refused (ack %d)" % (what, v))

    def negotiate(self, want_pf=PF_MQ | PF_REPLY_ACK, want_f=VF_VERSION_1 | VF_PROTOCOL_FEATURES):
        p = self.p
        offered = p.get_u64(GET_FEATURES)
        if not offered & VF_PROTOCOL_FEATURES:
            raise CaseFail("PROTOCOL_FEATURES not offered (0x%x)" % offered)
        p.send(SET_OWNER)
        pf = p.get_u64(GET_PROTOCOL_FEATURES)
        if not pf & PF_REPLY_ACK:
            raise CaseFail("REPLY_ACK not offered (0x%x)" % pf)
        self.pf = pf & want_pf
        p.send(SET_PROTOCOL_FEATURES, u64(self.pf))
        if self.pf & PF_MQ:
            n = p.get_u64(GET_QUEUE_NUM)
            if n < 1:
                raise CaseFail("GET_QUEUE_NUM answered %d" % n)
        self.features = offered & want_f
        self.expect_ack("SET_FEATURES", SET_FEATURES, u64(self.features))

    def setup_mem(self):
        self.expect_ack("SET_MEM_TABLE", SET_MEM_TABLE, self.table(), [self.memfd])

    def setup_ring(self, q, enable=True, call_fd=None, err_fd=None):
        self.expect_ack("SET_VRING_NUM", SET_VRING_NUM, state(q, QSIZE))
        self.expect_ack("SET_VRING_BASE", SET_VRING_BASE, state(q, 0))
        self.expect_ack("SET_VRING_ADDR", SET_VRING_ADDR, self.ring_addr(q))
        self.expect_ack("SET_VRING_CALL", SET_VRING_CALL, u64(q),
                        [self.call[q] if call_fd is None else call_fd])
        if err_fd is not None:
            self.expect_ack("SET_VRING_ERR", SET_VRING_ERR, u64(q), [err_fd])
        self.expect_ack("SET_VRING_KICK", SET_VRING_KICK, u64(q), [self.kick[q]])
        if enable:
            self.expect_ack("SET_VRING_ENABLE", SET_VRING_ENABLE, state(q, 1))

    def post_rx(self):
        d, a, _ = self.ring(0)
        for i in range(RX_POSTED):
            DESC.pack_into(self.mm, d + 16 * i, self.gpa(RXBUF + i * BUFSZ), BUFSZ, DESC_F_WRITE, 0)
            struct.pack_into("<H", self.mm, a + 4 + 2 * i, i)
        struct.pack_into("<H", self.mm, a + 2, RX_POSTED)

    def handshake(self, want_pf=PF_MQ | PF_REPLY_ACK,
                  want_f=VF_VERSION_1 | VF_PROTOCOL_FEATURES, **kw):
        self.negotiate(want_pf, want_f)
        self.post_rx()
        self.setup_mem()
        self.setup_ring(0)
        self.setup_ring(1, **kw)

    def post_tx(self, payload, buf_off=None, length=None):
        d, a, _ = self.ring(1)
        slot = self.tx_idx % QSIZE
        off = TXBUF + (slot % 64) * BUFSZ if buf_off is None else buf_off
        if buf_off is None:
            self.mm[off:off + NET_HDR] = bytes(NET_HDR)
            self.mm[off + NET_HDR:off + NET_HDR + len(payload)] = payload
        n = NET_HDR + len(payload) if length is None else length
        DESC.pack_into(self.mm, d + 16 * slot, self.gpa(off), n, 0, 0)
        struct.pack_into("<H", self.mm, a + 4 + 2 * (self.tx_idx % QSIZE), slot)
        self.tx_idx = (self.tx_idx + 1) & 0xFFFF
        struct.pack_into("<H", self.mm, a + 2, self.tx_idx)
        os.eventfd_write(self.kick[1], 1)

    def frame(self):
        self.seq += 1
        body = b"vhostd-hostile-frontend seq %08d " % self.seq
        return b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01" + b"\x88\xb5" + body.ljust(64, b".")

    def loopback(self, timeout=LOOP_TIMEOUT):
        """Send one frame, wait for it on the RX ring; seconds taken."""
        t0 = time.monotonic()
        fr = self.frame()
        self.post_tx(fr)
        _, _, u = self.ring(0)
        while time.monotonic() - t0 < timeout:
            idx = struct.unpack_from("<H", self.mm, u + 2)[0]
            while idx != self.rx_used:
                slot = self.rx_used % QSIZE
                eid, elen = struct.unpack_from("<II", self.mm, u + 4 + 8 * slot)
                self.rx_used = (self.rx_used + 1) & 0xFFFF
                if eid >= RX_POSTED or elen > BUFSZ:
                    raise CaseFail("RX used entry id %d len %d" % (eid, elen))
                got = bytes(self.mm[RXBUF + eid * BUFSZ + NET_HDR:RXBUF + eid * BUFSZ + elen])
                if got == fr:
                    return time.monotonic() - t0
            time.sleep(0.001)
        raise CaseFail("frame not looped back within %.0fs (TX used idx %d, RX used idx %d)" %
                       (timeout, struct.unpack_from("<H", self.mm, self.ring(1)[2] + 2)[0],
                        struct.unpack_from("<H", self.mm, u + 2)[0]))

    def close(self):
        try:
            if self.mm is not None:
                self.mm.close()
        except (BufferError, ValueError):
            pass
        for fd in [self.memfd] + self.kick + self.call:
            try:
                os.close(fd)
            except OSError:
                pass


# --- the daemon -------------------------------------------------------------
class Daemon:
    def __init__(self, pid, log):
        self.pid = pid
        self.log = log

    def alive(self):
        try:
            with open("/proc/%d/stat" % self.pid) as f:
                st = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False
        return st not in ("Z", "X")

    def fds(self):
        d = "/proc/%d/fd" % self.pid
        out = {}
        for n in os.listdir(d):
            try:
                out[n] = os.readlink(os.path.join(d, n))
            except OSError:
                pass
        return out

    def log_pos(self):
        try:
            return os.path.getsize(self.log) if self.log else 0
        except OSError:
            return 0

    def log_since(self, pos):
        if not self.log:
            return ""
        try:
            with open(self.log, "rb") as f:
                f.seek(pos)
                return f.read().decode(errors="replace")
        except OSError:
            return ""


# --- the checks after every case --------------------------------------------
class Harness:
    def __init__(self, args):
        self.a = args.a
        self.b = args.b
        self.d = Daemon(args.pid, args.log)
        self.mutant = args.mutant
        self.args = args
        self.baseline = None
        self.results = []

    def full_guest(self, path, bound=None, **kw):
        t0 = time.monotonic()
        p = Peer(path)
        g = Guest(p)
        try:
            g.handshake(**kw)
            g.loopback()
        except BaseException:
            g.close()
            p.close()
            raise
        dt = time.monotonic() - t0
        if bound is not None and dt > bound:
            g.close()
            p.close()
            raise CaseFail("handshake + loopback on %s took %.2fs (bound %.1fs)" %
                           (path, dt, bound))
        return p, g, dt

    def check_port(self, path, name, bound):
        # The daemon may still be closing the previous connection (one
        # frontend per socket): a refused connection is retried briefly.
        last = None
        for _ in range(10):
            try:
                p, g, dt = self.full_guest(path, bound)
            except CaseFail as e:
                last = e
                if "EOF instead" in str(e) and self.d.alive():
                    time.sleep(0.1)
                    continue
                raise CaseFail("port %s: %s" % (name, e))
            except (BrokenPipeError, ConnectionResetError) as e:
                # Same race as above, seen as a write to a refused connection.
                last = e
                if self.d.alive():
                    time.sleep(0.1)
                    continue
                raise CaseFail("port %s: %r" % (name, e))
            except (OSError, socket.timeout) as e:
                raise CaseFail("port %s: %r" % (name, e))
            try:
                p.finish()
            finally:
                g.close()
            return dt
        raise CaseFail("port %s: every connection closed at once (%s)" % (name, last))

    def settle_fds(self):
        """Wait for the fd count to come back to the baseline; the excess."""
        end = time.monotonic() + TIMEOUT
        while True:
            cur = self.d.fds()
            extra = len(cur) - len(self.baseline)
            if extra <= FD_SLACK or time.monotonic() > end:
                return extra, cur
            time.sleep(0.05)

    def after_case(self):
        errs = []
        if not self.d.alive():
            raise DaemonDead()
        for path, name in ((self.a, "A"), (self.b, "B")):
            try:
                bound = B_BOUND if self.mutant != "b-bound" else 0.0001
                self.check_port(path, name, bound if name == "B" else None)
            except CaseFail as e:
                errs.append(str(e))
            if not self.d.alive():
                raise DaemonDead()
        if self.mutant == "hold-conn":
            # A live connection to B during the fd check: must count as growth.
            self.held = self.full_guest(self.b)
        extra, cur = self.settle_fds()
        if self.mutant == "hold-conn":
            self.held[0].finish()
            self.held[1].close()
        slack = -1 if self.mutant == "fd-strict" else FD_SLACK
        if extra > slack:
            new = sorted(set(cur.values()) - set(self.baseline.values()))
            errs.append("fd leak: %d more fds than at start (new targets: %s)" %
                        (extra, ", ".join(new[:10]) or "same targets, more of them"))
        return errs

    def run(self, cases):
        if not self.d.alive():
            print("daemon pid %d is not running" % self.d.pid)
            return 2
        # Warm up both ports once (first connections allocate lazily), then
        # take the idle fd baseline.
        try:
            self.check_port(self.a, "A", None)
            self.check_port(self.b, "B", B_BOUND)
        except CaseFail as e:
            print("SETUP FAIL: the daemon does not serve a legit frontend: %s" % e)
            return 1
        time.sleep(0.2)
        self.baseline = self.d.fds()
        print("daemon pid %d: %d fds idle" % (self.d.pid, len(self.baseline)))
        start_fds = len(self.baseline)
        dead = False
        for name, fn in cases:
            if dead:
                self.results.append((name, "NOT RUN", ["daemon died earlier"]))
                continue
            t0 = time.monotonic()
            pos = self.d.log_pos()
            errs, notes = [], []
            ctx = Ctx(self, notes)
            try:
                fn(ctx)
            except CaseFail as e:
                errs.append(str(e))
            except DaemonDead:
                pass
            except (OSError, socket.timeout) as e:
                errs.append("unexpected %r" % e)
            try:
                ctx.cleanup()
            except CaseFail as e:
                errs.append(str(e))
            try:
                errs += self.after_case()
            except DaemonDead:
                dead = True
            if dead or not self.d.alive():
                dead = True
                errs.append("DAEMON DIED (see its log for the signal/backtrace)")
                errs.append("last log lines:\n" + "\n".join(
                    self.d.log_since(pos).splitlines()[-15:]))
            logged = self.d.log_since(pos)
            if ctx.expect_log and not any(self.a in ln for ln in logged.splitlines()
                                          if "vhu" in ln or "net_vhostd" in ln):
                notes.append("no daemon log line about port A (rate-limited?)")
            st = "FAIL" if errs else "PASS"
            self.results.append((name, st, errs + ["note: " + n for n in notes]))
            print("%-4s %-34s %5.2fs%s" % (st, name, time.monotonic() - t0,
                                            "".join("\n       " + e for e in errs)), flush=True)
            for n in notes:
                print("       note: " + n, flush=True)
        if not dead:
            end_fds = len(self.settle_fds()[1])
            print("daemon fds: %d at start, %d at end" % (start_fds, end_fds))
            if end_fds - start_fds > FD_SLACK:
                self.results.append(("fd_total", "FAIL", ["%d fds more after the whole run" %
                                                          (end_fds - start_fds)]))
                print("FAIL fd_total: %d fds more after the whole run" % (end_fds - start_fds))
        failed = [r for r in self.results if r[1] != "PASS"]
        print("SUMMARY: %d cases, %d passed, %d failed%s" %
              (len(self.results), len(self.results) - len(failed), len(failed),
               "" if not failed else ": " + ", ".join(r[0] for r in failed)))
        return 1 if failed else 0


class Ctx:
    """What a case gets: the paths, the daemon, helpers, cleanup."""

    def __init__(self, h, notes):
        self.h = h
        self.a = h.a
        self.b = h.b
        self.d = h.d
        self.notes = notes
        self.expect_log = True
        self.peers = []
        self.guests = []
        self.probes = []
        self.fds = []
        self.seed = h.args.seed
        self.storm_seconds = h.args.storm_seconds

    def peer(self, path=None, **kw):
        p = Peer(path or self.a, **kw)
        self.peers.append(p)
        return p

    def guest(self, peer, **kw):
        g = Guest(peer, **kw)
        self.guests.append(g)
        return g

    def probe(self):
        pr = Probe()
        self.probes.append(pr)
        return pr

    def fd(self, fd):
        self.fds.append(fd)
        return fd

    def refused(self, p, what, req, payload=b"", fds=(), allowed=("nack", "closed"), **kw):
        """Send a hostile request with NEED_REPLY and assert it is refused."""
        if self.h.mutant == "nack-is-ack":
            allowed = ("ack", "answered")
        out, _ = p.outcome(req, payload, fds, **kw)
        if out not in allowed:
            raise CaseFail("%s: got %s, expected %s" % (what, out, " or ".join(allowed)))
        return out

    def still_usable(self, p, what):
        """After a nack the connection must still answer."""
        try:
            v = p.get_u64(GET_FEATURES)
        except (CaseFail, socket.timeout, OSError) as e:
            raise CaseFail("%s: connection unusable after the refusal (%s)" % (what, e))
        if v == 0:
            raise CaseFail("%s: GET_FEATURES answered 0" % what)

    def expect_closed(self, p, what, timeout=TIMEOUT):
        if self.h.mutant == "closed-stays-open":
            if p.wait_eof(0.3):
                raise CaseFail("%s: (mutant) connection closed" % what)
            return
        if not p.wait_eof(timeout):
            raise CaseFail("%s: daemon did not close the connection within %.0fs" %
                           (what, timeout))

    def cleanup(self):
        for p in self.peers:
            try:
                if not p.eof:
                    p.finish()
            except (CaseFail, OSError):
                pass
            p.close()
        for g in self.guests:
            g.close()
        bad = []
        end = time.monotonic() + TIMEOUT
        for pr in self.probes:
            if not pr.closed_by_peer(max(0.05, end - time.monotonic())):
                bad.append(pr)
            pr.close()
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass
        if bad:
            raise CaseFail("%d fd(s) handed to the daemon were never closed by it" % len(bad))


# --- the cases ----------------------------------------------------------------
def case_truncated_header(c):
    p = c.peer()
    p.raw(HDR.pack(GET_FEATURES, F_VERSION, 0)[:7])
    time.sleep(0.2)  # the daemon now holds 7 bytes of a header
    p2 = c.peer()
    try:
        p2.raw(b"\x01")
    except (BrokenPipeError, ConnectionResetError):
        pass  # a second connection is refused: vhostd may have closed it already
    p2.close()
    p.close()
    p.eof = True
    c.expect_log = False


def case_truncated_payload_close(c):
    p = c.peer()
    p.raw(HDR.pack(SET_FEATURES, F_VERSION, 8) + b"\x00\x00\x00")
    time.sleep(0.1)
    p.close()
    p.eof = True
    # A partial message that carried fds: they must be closed at disconnect.
    pr = c.probe()
    q = c.peer()
    q.raw(HDR.pack(SET_MEM_TABLE, F_VERSION, 8 + 32) + struct.pack("<II", 1, 0), [pr.give()])
    pr.sent()
    time.sleep(0.1)
    q.close()
    q.eof = True
    c.expect_log = False


def case_size_too_large(c):
    for size in (0xFFFFFFFF, 0x10000, 269, 4096):
        p = c.peer()
        p.send(GET_FEATURES, b"", flags=F_VERSION, size=size)
        if size < 1000:
            try:
                p.raw(bytes(size))
            except OSError:
                pass
        c.expect_closed(p, "GET_FEATURES with size %d" % size)


def case_size_mismatch(c):
    p = c.peer()
    g = c.guest(p)
    g.negotiate()
    c.refused(p, "SET_FEATURES with 4 bytes", SET_FEATURES, b"\x00" * 4)
    c.still_usable(p, "SET_FEATURES/4")
    c.refused(p, "SET_FEATURES with 16 bytes", SET_FEATURES, u64(g.features) * 2)
    c.refused(p, "SET_VRING_NUM with 16 bytes", SET_VRING_NUM, state(0, 256) * 2)
    c.refused(p, "SET_VRING_NUM with 4 bytes", SET_VRING_NUM, b"\x00\x00\x00\x00")
    c.refused(p, "SET_VRING_ADDR with 8 bytes", SET_VRING_ADDR, state(0, 0))
    c.refused(p, "SET_OWNER with 8 bytes", SET_OWNER, u64(0))
    c.refused(p, "GET_FEATURES with 8 bytes", GET_FEATURES, u64(0),
              allowed=("empty", "closed"))
    c.refused(p, "SET_VRING_KICK with 8+8 bytes", SET_VRING_KICK, u64(VRING_NOFD) * 2)
    c.refused(p, "SET_MEM_TABLE: 2 regions claimed, 1 sent", SET_MEM_TABLE,
              struct.pack("<II", 2, 0) + region(GPA_BASE, 4096, QVA_BASE, 0), [g.memfd])
    c.refused(p, "SET_MEM_TABLE: 1 region claimed, 2 sent", SET_MEM_TABLE,
              struct.pack("<II", 1, 0) + region(GPA_BASE, 4096, QVA_BASE, 0) * 2, [g.memfd])
    c.refused(p, "SET_MEM_TABLE: 4 bytes", SET_MEM_TABLE, b"\x01\x00\x00\x00", [g.memfd])
    c.still_usable(p, "size mismatches")


def case_unknown_requests(c):
    p = c.peer()
    for req in (0, 99, 0xFFFFFFFF, 26, 33, 41, 0x80000001, IOTLB_MSG):
        c.refused(p, "request %#x" % req, req, u64(0))
        if p.eof:
            p = c.peer()
        else:
            c.still_usable(p, "request %#x" % req)


def case_bad_version_flags(c):
    for flags in (0x0, 0x2, 0x3, F_VERSION | F_REPLY, F_VERSION | 0x10, F_VERSION | 0x80000000):
        p = c.peer()
        p.send(GET_FEATURES, flags=flags)
        r = None
        try:
            r = p.recv(TIMEOUT)
        except socket.timeout:
            raise CaseFail("flags 0x%x: no answer and no close" % flags)
        if r is not None and c.h.mutant != "closed-stays-open":
            raise CaseFail("flags 0x%x: answered (request %d flags 0x%x)" % (flags, r[0], r[1]))


def case_missing_fds(c):
    p = c.peer()
    g = c.guest(p)
    g.negotiate()
    c.refused(p, "SET_MEM_TABLE without fd", SET_MEM_TABLE, g.table())
    c.refused(p, "SET_MEM_TABLE 2 regions 1 fd", SET_MEM_TABLE,
              memtable([region(GPA_BASE, 0x10000, QVA_BASE, 0),
                        region(GPA_BASE + 0x10000, 0x10000, QVA_BASE + 0x10000, 0x10000)]),
              [g.memfd])
    g.setup_mem()
    for req in (SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR):
        c.refused(p, "request %d idx 0 without fd or NOFD" % req, req, u64(0))
    c.refused(p, "SET_LOG_FD without fd", SET_LOG_FD, b"", allowed=("nack", "closed"))
    c.still_usable(p, "missing fds")


def case_surplus_fds(c):
    # 20 fds: more than any message carries (MSG_CTRUNC or overflow): closed.
    probes = [c.probe() for _ in range(20)]
    p = c.peer()
    p.send(GET_FEATURES, fds=[pr.give() for pr in probes])
    for pr in probes:
        pr.sent()
    c.expect_closed(p, "GET_FEATURES with 20 fds")
    # A few surplus fds within the framing limit: refused, and closed.
    p = c.peer()
    g = c.guest(p)
    probes = [c.probe() for _ in range(3)]
    c.refused(p, "GET_FEATURES with 3 fds", GET_FEATURES, b"", [pr.give() for pr in probes],
              allowed=("empty", "closed"))
    for pr in probes:
        pr.sent()
    if not p.eof:
        g.negotiate()
        pr1, pr2 = c.probe(), c.probe()
        c.refused(p, "SET_OWNER with 1 fd", SET_OWNER, b"", [pr1.give()])
        c.refused(p, "SET_FEATURES with 1 fd", SET_FEATURES, u64(g.features), [pr2.give()])
        pr1.sent()
        pr2.sent()
        g.setup_mem()
        e1, e2 = c.fd(os.eventfd(0)), c.fd(os.eventfd(0))
        c.refused(p, "SET_VRING_CALL with 2 fds", SET_VRING_CALL, u64(0), [e1, e2])
        pr3 = c.probe()
        c.refused(p, "SET_VRING_KICK NOFD with an fd", SET_VRING_KICK, u64(VRING_NOFD),
                  [pr3.give()])
        pr3.sent()
        pr4 = c.probe()
        c.refused(p, "SET_MEM_TABLE 1 region 2 fds", SET_MEM_TABLE, g.table(),
                  [g.memfd, pr4.give()])
        pr4.sent()
        c.still_usable(p, "surplus fds")


def case_vring_index_range(c):
    p = c.peer()
    g = c.guest(p)
    g.negotiate()
    g.setup_mem()
    e = c.fd(os.eventfd(0))
    for idx in (2, 31, 1000, 0xFFFF, 0x10000, 0xFFFFFFFF):
        c.refused(p, "SET_VRING_NUM idx %#x" % idx, SET_VRING_NUM, state(idx, 256))
        c.refused(p, "SET_VRING_BASE idx %#x" % idx, SET_VRING_BASE, state(idx, 0))
        c.refused(p, "SET_VRING_ENABLE idx %#x" % idx, SET_VRING_ENABLE, state(idx, 1))
        c.refused(p, "SET_VRING_ADDR idx %#x" % idx, SET_VRING_ADDR,
                  vring_addr(idx, QVA_BASE, QVA_BASE + 0x2000, QVA_BASE + 0x1000))
        c.refused(p, "GET_VRING_BASE idx %#x" % idx, GET_VRING_BASE, state(idx, 0),
                  allowed=("empty", "closed"))
    for v in (2, 0xFF, 0x2FF, 0x1_0000_0000):
        c.refused(p, "SET_VRING_CALL u64 %#x" % v, SET_VRING_CALL, u64(v), [e])
        c.refused(p, "SET_VRING_KICK u64 %#x" % v, SET_VRING_KICK, u64(v), [e])
    c.still_usable(p, "vring indexes")


def case_ring_sizes(c):
    p = c.peer()
    g = c.guest(p)
    g.negotiate()
    for num in (0, 3, 255, 65536, 32769, 0x80000000, 0xFFFFFFFF):
        c.refused(p, "SET_VRING_NUM %#x" % num, SET_VRING_NUM, state(0, num))
    # The same message with a good size is accepted: the refusals above are real.
    if p.acked(SET_VRING_NUM, state(0, 256)) != 0:
        raise CaseFail("SET_VRING_NUM 256 refused")
    c.still_usable(p, "ring sizes")


def case_vring_addr_outside(c):
    p = c.peer()
    g = c.guest(p)
    g.negotiate()
    g.setup_mem()
    if p.acked(SET_VRING_NUM, state(0, QSIZE)) != 0:
        raise CaseFail("SET_VRING_NUM refused")
    end = QVA_BASE + MEM_SIZE
    bad = [
        ("below memory", vring_addr(0, QVA_BASE - 0x10000, QVA_BASE + 0x2000, QVA_BASE + 0x1000)),
        ("desc past the end", vring_addr(0, end - 0x800, QVA_BASE + 0x2000, QVA_BASE + 0x1000)),
        ("used past the end", vring_addr(0, QVA_BASE, end - 0x10, QVA_BASE + 0x1000)),
        ("avail past the end", vring_addr(0, QVA_BASE, QVA_BASE + 0x2000, end - 2)),
        ("desc at gpa, not qva", vring_addr(0, GPA_BASE, QVA_BASE + 0x2000, QVA_BASE + 0x1000)),
        ("desc overflowing u64", vring_addr(0, 0xFFFFFFFFFFFFFFF0, QVA_BASE + 0x2000,
                                            QVA_BASE + 0x1000)),
        ("all at 2^64-16", vring_addr(0, 0xFFFFFFFFFFFFFFF0, 0xFFFFFFFFFFFFFFF0,
                                      0xFFFFFFFFFFFFFFF0)),
        ("desc misaligned", vring_addr(0, QVA_BASE + 8, QVA_BASE + 0x2000, QVA_BASE + 0x1000)),
        ("unknown flags", vring_addr(0, QVA_BASE, QVA_BASE + 0x2000, QVA_BASE + 0x1000,
                                     flags=0xFE)),
    ]
    for what, pl in bad:
        c.refused(p, "SET_VRING_ADDR " + what, SET_VRING_ADDR, pl)
    # A ring that fits with size 1 but not with the size set later.
    if p.acked(SET_VRING_ADDR, vring_addr(1, end - 0x100, end - 0x40, end - 0x80)) == 0:
        c.refused(p, "SET_VRING_NUM 256 after a tail-of-memory address", SET_VRING_NUM,
                  state(1, QSIZE), allowed=("nack", "closed", "ack"))
        if not p.eof:
            e1, e2 = c.fd(os.eventfd(0)), c.fd(os.eventfd(0))
            p.acked(SET_VRING_CALL, u64(1), [e1])
            # Starting that ring would read past guest memory: it must not start.
            out, _ = p.outcome(SET_VRING_KICK, u64(1), [e2])
            if out == "ack":
                out, _ = p.outcome(SET_VRING_ENABLE, state(1, 1))
                if out == "ack":
                    raise CaseFail("a ring of 256 entries at the last 256 bytes of memory "
                                   "was started")
    if p.acked(SET_VRING_ADDR, g.ring_addr(0)) != 0:
        raise CaseFail("a valid SET_VRING_ADDR was refused after the hostile ones")
    c.still_usable(p, "vring addresses")


def case_regions_bad(c):
    p = c.peer()
    g = c.guest(p)
    g.negotiate()
    fd2 = c.fd(new_memfd(MEM_SIZE))
    M = 0xFFFFFFFFFFFFFFFF
    tables = [
        ("overlapping gpa", [region(GPA_BASE, MEM_SIZE, QVA_BASE, 0),
                             region(GPA_BASE + 0x1000, MEM_SIZE - 0x1000, QVA_BASE + MEM_SIZE, 0)],
         2),
        ("identical regions", [region(GPA_BASE, MEM_SIZE, QVA_BASE, 0)] * 2, 2),
        ("zero size", [region(GPA_BASE, 0, QVA_BASE, 0)], 1),
        ("gpa + size overflows", [region(M - 0xFFF, 0x2000, QVA_BASE, 0)], 1),
        ("qva + size overflows", [region(GPA_BASE, 0x2000, M - 0xFFF, 0)], 1),
        ("offset + size overflows", [region(GPA_BASE, 0x2000, QVA_BASE, M - 0xFFF)], 1),
        ("size 2^64-1", [region(0, M, 0, 0)], 1),
        ("offset past the file", [region(GPA_BASE, 0x1000, QVA_BASE, 1 << 40)], 1),
    ]
    for what, regs, nfd in tables:
        fds = [g.memfd, fd2][:nfd]
        c.refused(p, "SET_MEM_TABLE " + what, SET_MEM_TABLE, memtable(regs), fds)
    c.refused(p, "SET_MEM_TABLE 0 regions", SET_MEM_TABLE, memtable([]))
    c.refused(p, "SET_MEM_TABLE nb_regions 0xffffffff", SET_MEM_TABLE,
              struct.pack("<II", 0xFFFFFFFF, 0) + region(GPA_BASE, 0x1000, QVA_BASE, 0),
              [g.memfd])
    c.still_usable(p, "bad regions")
    # 9 regions do not fit a message: framing error or refusal, never a crash.
    p2_fds = [g.memfd] * 8
    out, _ = p.outcome(SET_MEM_TABLE, struct.pack("<II", 9, 0) +
                       b"".join(region(GPA_BASE + i * 0x1000, 0x1000, QVA_BASE + i * 0x1000,
                                       i * 0x1000) for i in range(9)), p2_fds)
    if out not in ("nack", "closed"):
        raise CaseFail("SET_MEM_TABLE with 9 regions: %s" % out)


def case_memory_file_short(c):
    p = c.peer()
    g = c.guest(p)
    g.negotiate()
    small = c.fd(new_memfd(0x10000))
    c.refused(p, "region of 1 MiB on a 64 KiB file", SET_MEM_TABLE,
              memtable([region(GPA_BASE, MEM_SIZE, QVA_BASE, 0)]), [small])
    c.refused(p, "region ending past a 64 KiB file", SET_MEM_TABLE,
              memtable([region(GPA_BASE, 0x2000, QVA_BASE, 0xF000)]), [small])
    empty = c.fd(new_memfd(0))
    c.refused(p, "region on an empty file", SET_MEM_TABLE,
              memtable([region(GPA_BASE, 0x1000, QVA_BASE, 0)]), [empty])
    pr = c.probe()
    c.refused(p, "region on a pipe", SET_MEM_TABLE,
              memtable([region(GPA_BASE, 0x1000, QVA_BASE, 0)]), [pr.give()])
    pr.sent()
    ev = c.fd(os.eventfd(0))
    c.refused(p, "region on an eventfd", SET_MEM_TABLE,
              memtable([region(GPA_BASE, 0x1000, QVA_BASE, 0)]), [ev])
    zero = c.fd(os.open("/dev/zero", os.O_RDWR))
    c.refused(p, "region on /dev/zero", SET_MEM_TABLE,
              memtable([region(GPA_BASE, 0x1000, QVA_BASE, 0)]), [zero])
    ro = c.fd(os.open("/proc/self/exe", os.O_RDONLY))
    c.refused(p, "region on a read-only file", SET_MEM_TABLE,
              memtable([region(GPA_BASE, 0x1000, QVA_BASE, 0)]), [ro])
    c.still_usable(p, "short memory files")


def _shrink(c, cut_to, post_into_cut):
    p = c.peer()
    g = c.guest(p, sealing=False)
    g.handshake()
    g.loopback()
    if post_into_cut:
        # RX buffers and a TX frame in the part that is about to go away.
        d, a, _ = g.ring(0)
        for i in range(RX_POSTED):
            DESC.pack_into(g.mm, d + 16 * i, g.gpa(0xC0000 + i * BUFSZ), BUFSZ, DESC_F_WRITE, 0)
    os.ftruncate(g.memfd, cut_to)
    if post_into_cut:
        g.post_tx(b"", buf_off=0xF0000, length=1000)
    if not p.wait_eof(5.0):
        raise CaseFail("shrunk to %d bytes: the device was not dropped within 5s" % cut_to)
    # Our own mapping of the cut part is dead too: never touch g.mm again.
    g.mm = None


def case_memfd_shrunk_to_zero(c):
    _shrink(c, 0, False)


def case_memfd_shrunk_under_buffers(c):
    _shrink(c, MEM_SIZE // 2, True)


def case_memfd_sealed(c):
    # With MFD_ALLOW_SEALING the daemon may seal the file against shrinking.
    p = c.peer()
    g = c.guest(p, sealing=True)
    g.handshake()
    g.loopback()
    try:
        os.ftruncate(g.memfd, 0)
    except PermissionError:
        c.notes.append("daemon sealed the memfd against shrinking (EPERM)")
        g.loopback()
        c.expect_log = False
        return
    if not p.wait_eof(5.0):
        raise CaseFail("sealable memfd shrunk: the device was not dropped within 5s")
    g.mm = None


def case_out_of_order(c):
    p = c.peer()
    g = c.guest(p)
    g.negotiate()
    c.refused(p, "SET_VRING_ADDR before SET_MEM_TABLE", SET_VRING_ADDR, g.ring_addr(0))
    ev = c.fd(os.eventfd(0))
    c.refused(p, "SET_VRING_KICK before anything", SET_VRING_KICK, u64(0), [ev])
    g.setup_mem()
    c.refused(p, "SET_VRING_KICK before SET_VRING_NUM", SET_VRING_KICK, u64(0), [ev])
    if p.acked(SET_VRING_NUM, state(0, QSIZE)) != 0:
        raise CaseFail("SET_VRING_NUM refused")
    c.refused(p, "SET_VRING_KICK before SET_VRING_ADDR", SET_VRING_KICK, u64(0), [ev])
    # GET_VRING_BASE of a ring that never started answers (base 0), never crashes.
    p.send(GET_VRING_BASE, state(1, 0))
    r = p.reply_to(GET_VRING_BASE)
    if r is None:
        raise CaseFail("GET_VRING_BASE of an unstarted ring closed the connection")
    # Enable before setup, then a RESET and ring requests on the reset device.
    p.acked(SET_VRING_ENABLE, state(0, 1))
    p.send(RESET_OWNER)
    c.refused(p, "SET_VRING_KICK after RESET_OWNER", SET_VRING_KICK, u64(0), [ev])
    c.still_usable(p, "out of order")


def case_features_not_offered(c):
    p = c.peer()
    g = c.guest(p)
    offered = p.get_u64(GET_FEATURES)
    pf = p.get_u64(GET_PROTOCOL_FEATURES)
    bad_f = [1 << 63, 0xFFFFFFFFFFFFFFFF]
    for bit in range(64):
        if not offered & (1 << bit):
            bad_f.append(offered | (1 << bit))
            break
    for v in bad_f:
        c.refused(p, "SET_FEATURES %#x" % v, SET_FEATURES, u64(v))
    bad_pf = [0xFFFFFFFFFFFFFFFF, 1 << 63]
    for bit in (5, 13, 6, 7, 8, 10, 11, 12, 14):
        if not pf & (1 << bit):
            bad_pf.append(pf | (1 << bit))
    for v in bad_pf:
        c.refused(p, "SET_PROTOCOL_FEATURES %#x" % v, SET_PROTOCOL_FEATURES, u64(v))
    # Requests gated on a protocol feature that was not negotiated.
    p.send(SET_PROTOCOL_FEATURES, u64(PF_REPLY_ACK))
    c.refused(p, "GET_QUEUE_NUM without MQ", GET_QUEUE_NUM, allowed=("empty", "closed"))
    c.refused(p, "ADD_MEM_REG without CONFIGURE_MEM_SLOTS", ADD_MEM_REG,
              u64(0) + region(GPA_BASE, 0x1000, QVA_BASE, 0), [g.memfd])
    c.refused(p, "GET_CONFIG without CONFIG", GET_CONFIG, struct.pack("<III", 0, 8, 0) + bytes(8),
              allowed=("empty", "closed"))
    c.refused(p, "NET_SET_MTU without NET_MTU", NET_SET_MTU, u64(1500))
    c.still_usable(p, "features not offered")
    log = c.fd(new_memfd(0x1000))
    c.refused(p, "SET_LOG_BASE without LOG_SHMFD", SET_LOG_BASE, struct.pack("<QQ", 0x1000, 0),
              [log])


def case_reconfigure_started_ring(c):
    p = c.peer()
    g = c.guest(p)
    g.handshake()
    g.loopback()
    c.refused(p, "SET_VRING_NUM on a started ring", SET_VRING_NUM, state(1, 512))
    c.refused(p, "SET_VRING_NUM 0 on a started ring", SET_VRING_NUM, state(0, 0))
    c.refused(p, "SET_VRING_BASE on a started ring", SET_VRING_BASE, state(1, 77))
    d, a, u = g.ring(1)
    c.refused(p, "SET_VRING_ADDR elsewhere on a started ring", SET_VRING_ADDR,
              vring_addr(1, g.qva(0x80000), g.qva(0x82000), g.qva(0x81000)))
    c.refused(p, "SET_FEATURES change on a started ring", SET_FEATURES,
              u64(g.features & ~VF_VERSION_1))
    # The ring keeps running with its old configuration.
    g.loopback()


def _pipe_as(c, which, full, reader_closed):
    p = c.peer()
    g = c.guest(p)
    g.negotiate()
    g.post_rx()
    g.setup_mem()
    g.setup_ring(0)
    r, w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
    c.fd(r)
    c.fd(w)
    if full:
        try:
            while True:
                os.write(w, b"x" * 65536)
        except BlockingIOError:
            pass
        # Restore blocking mode on the shared open file description.
        fl = fcntl.fcntl(w, fcntl.F_GETFL)
        fcntl.fcntl(w, fcntl.F_SETFL, fl & ~os.O_NONBLOCK)
    fd = w if which != "kick" else r
    if reader_closed:
        os.close(r)
        c.fds.remove(r)
    for q in (1,):
        p.acked(SET_VRING_NUM, state(q, QSIZE))
        p.acked(SET_VRING_BASE, state(q, 0))
        p.acked(SET_VRING_ADDR, g.ring_addr(q))
        req = {"kick": SET_VRING_KICK, "call": SET_VRING_CALL, "err": SET_VRING_ERR}[which]
        out, _ = p.outcome(req, u64(q), [fd])
        if out in ("nack", "closed"):
            c.notes.append("pipe as %s fd: %s" % (which, out))
            return  # refused: the after-case checks prove the rest
        if out != "ack":
            raise CaseFail("%s pipe: %s" % (which, out))
        c.notes.append("a pipe was accepted as %s fd: checking the datapath" % which)
        if which != "call":
            p.acked(SET_VRING_CALL, u64(q), [g.call[q]])
        if which != "kick":
            p.acked(SET_VRING_KICK, u64(q), [g.kick[q]])
        p.acked(SET_VRING_ENABLE, state(q, 1))
    for _ in range(3):
        g.loopback()
    c.expect_log = False


def case_call_pipe_unread(c):
    _pipe_as(c, "call", False, False)


def case_call_pipe_full(c):
    _pipe_as(c, "call", True, False)


def case_call_pipe_no_reader(c):
    _pipe_as(c, "call", False, True)


def case_kick_pipe(c):
    _pipe_as(c, "kick", True, False)


def _saturated_eventfd():
    """An eventfd at its maximum: one more write blocks (or EAGAIN)."""
    e = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
    os.write(e, U64.pack(0xFFFFFFFFFFFFFFFE))
    return e


def _unblock(fd):
    try:
        os.read(fd, 8)
    except OSError:
        pass


def case_call_eventfd_saturated(c):
    """The call fd is an eventfd at 2^64-2 and, after the daemon made it
    non-blocking, the frontend makes the shared open file description
    blocking again. An interrupt must never block the datapath lcore (which
    also serves port B)."""
    p = c.peer()
    g = c.guest(p)
    e = c.fd(_saturated_eventfd())
    g.negotiate()
    g.post_rx()
    g.setup_mem()
    g.setup_ring(0, call_fd=e)
    g.setup_ring(1)
    fl = fcntl.fcntl(e, fcntl.F_GETFL)
    fcntl.fcntl(e, fcntl.F_SETFL, fl & ~os.O_NONBLOCK)
    _blocked_lcore_check(c, g, e, "a saturated blocking call eventfd")


def case_err_eventfd_saturated(c):
    """The err fd is an eventfd at 2^64-2 that the frontend makes blocking
    again after SET_VRING_ERR (the daemon's O_NONBLOCK lives on the open
    file description both share); then the guest breaks ring 1, and the
    daemon tells the frontend through the err fd."""
    p = c.peer()
    g = c.guest(p)
    e = c.fd(_saturated_eventfd())
    g.negotiate()
    g.post_rx()
    g.setup_mem()
    g.setup_ring(0)
    g.setup_ring(1, err_fd=e)
    fl = fcntl.fcntl(e, fcntl.F_GETFL)
    fcntl.fcntl(e, fcntl.F_SETFL, fl & ~os.O_NONBLOCK)
    g.loopback()
    # The avail index runs 1000 entries ahead of a 256-entry ring: a guest
    # fault that stops ring 1 and is signalled on its err fd.
    _, a, _ = g.ring(1)
    struct.pack_into("<H", g.mm, a + 2, (g.tx_idx + 1000) & 0xFFFF)
    time.sleep(0.2)
    _blocked_lcore_check(c, g, e, "a saturated blocking err eventfd", loop_a=False)


def _blocked_lcore_check(c, g, e, what, loop_a=True):
    """Port A's own datapath may stop, but port B, served by the same
    forwarding lcore, must keep working while the eventfd stays full."""
    errs = []
    try:
        if loop_a:
            try:
                for _ in range(3):
                    g.loopback(timeout=2.0)
            except CaseFail as ex:
                c.notes.append("port A's own datapath stalled: %s" % ex)
        try:
            p, gb, dt = c.h.full_guest(c.b, B_BOUND)
            try:
                p.finish()
            finally:
                gb.close()
        except (CaseFail, socket.timeout, OSError) as ex:
            errs.append("port B datapath: %s" % ex)
        # Port A's frontend goes away meanwhile: tearing its rings down must
        # not wait forever for the stuck lcore, B's control plane must answer.
        try:
            g.p.s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        time.sleep(0.3)
        try:
            pb = c.peer(c.b, timeout=2.0)
            Guest(pb).negotiate()
        except (CaseFail, socket.timeout, OSError) as ex:
            errs.append("port B control plane after A hung up: %r" % ex)
    finally:
        # Unblock a stuck writer so that the remaining cases can run.
        _unblock(e)
    if errs:
        raise CaseFail("with %s held by port A's frontend: %s -- the forwarding lcore is "
                       "blocked in write() (and the control thread in the queue lock); "
                       "reading the eventfd released both" % (what, "; ".join(errs)))


def case_connect_loop(c):
    rng = random.Random(c.seed)
    t0 = time.monotonic()
    n = ok = 0
    while n < 300 and time.monotonic() - t0 < 8:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(1.0)
        try:
            connect_unix(s, c.a, 1.0)
            ok += 1
            k = rng.randrange(5)
            if k == 1:
                s.send(HDR.pack(GET_FEATURES, F_VERSION, 0)[:5])
            elif k == 2:
                s.send(HDR.pack(GET_FEATURES, F_VERSION, 0))
            elif k == 3:
                fd = new_memfd(0x1000)
                socket.send_fds(s, [HDR.pack(SET_MEM_TABLE, F_VERSION, 40) +
                                    struct.pack("<II", 1, 0)], [fd])
                os.close(fd)
            elif k == 4:
                s.send(HDR.pack(SET_OWNER, F_VERSION, 0) * 3)
        except OSError:
            pass
        s.close()
        n += 1
    c.notes.append("%d connections (%d connected) in %.2fs" % (n, ok, time.monotonic() - t0))
    if ok < n // 2:
        raise CaseFail("only %d of %d connections were accepted" % (ok, n))
    c.expect_log = False


def case_never_reads_replies(c):
    p = c.peer(rcvbuf=4096)
    p.s.setblocking(False)
    stop = threading.Event()
    sent = [0]

    def flood():
        msg = HDR.pack(GET_FEATURES, F_VERSION, 0) * 64
        while not stop.is_set():
            try:
                sent[0] += p.s.send(msg)
            except BlockingIOError:
                time.sleep(0.001)
            except OSError:
                return

    t = threading.Thread(target=flood, daemon=True)
    t.start()
    time.sleep(0.3)
    try:
        dts = []
        for _ in range(3):
            _, gb, dt = None, None, None
            pb, gb, dt = c.h.full_guest(c.b, B_BOUND)
            pb.finish()
            gb.close()
            dts.append(dt)
        c.notes.append("B handshake+loopback while A floods: %s s" %
                       ", ".join("%.3f" % x for x in dts))
    finally:
        stop.set()
        t.join()
    # A peer that does not read its replies ends up disconnected (or at
    # least must not be served forever at everyone's expense).
    p.s.setblocking(True)
    if not p.wait_eof(5.0):
        raise CaseFail("a frontend that never reads its replies is still connected "
                       "(%d bytes of requests sent)" % sent[0])


def case_slow_loris(c):
    # One byte at a time, slowly, while B must stay fast.
    p = c.peer()
    msg = HDR.pack(GET_FEATURES, F_VERSION | F_NEED_REPLY, 0)
    pb, gb, dt = c.h.full_guest(c.b, B_BOUND)
    for i, ch in enumerate(msg):
        p.raw(bytes([ch]))
        if i == 5:
            gb.loopback()
        time.sleep(0.02)
    pb.finish()
    gb.close()
    r = p.reply_to(GET_FEATURES)
    if r is None or len(r) != 8:
        raise CaseFail("a message sent one byte at a time was not answered")
    c.expect_log = False


def case_concurrent_8(c):
    ps = [c.peer() for _ in range(8)]
    time.sleep(0.3)
    answered = closed = 0
    for p in ps:
        out, _ = p.outcome(GET_FEATURES, flags=F_VERSION, timeout=2.0)
        if out == "answered":
            answered += 1
        elif out == "closed":
            closed += 1
    if answered != 1 or closed != 7:
        raise CaseFail("8 concurrent connections: %d served, %d closed, %d other" %
                       (answered, closed, 8 - answered - closed))
    # The served one can complete a real setup while the others are gone.
    for p in ps:
        if not p.eof:
            g = c.guest(p)
            g.negotiate()
    c.expect_log = False


def case_garbage_rings(c):
    """A started device whose rings hold random bytes (a hostile guest)."""
    rng = random.Random(c.seed + 1)
    p = c.peer()
    g = c.guest(p)
    g.handshake()
    g.loopback()
    for q in (0, 1):
        d, a, u = g.ring(q)
        g.mm[d:d + 0x3000] = rng.randbytes(0x3000)
    for _ in range(50):
        _, a, _ = g.ring(1)
        struct.pack_into("<H", g.mm, a + 2, rng.randrange(65536))
        _, a, _ = g.ring(0)
        struct.pack_into("<H", g.mm, a + 2, rng.randrange(65536))
        time.sleep(0.01)


def case_mem_slots(c):
    p = c.peer()
    g = c.guest(p)
    g.negotiate(want_pf=PF_MQ | PF_REPLY_ACK | PF_CONFIGURE_MEM_SLOTS)
    if not g.pf & PF_CONFIGURE_MEM_SLOTS:
        c.notes.append("CONFIGURE_MEM_SLOTS not offered: skipped")
        c.expect_log = False
        return
    n = p.get_u64(GET_MAX_MEM_SLOTS)
    if n < 1 or n > 4096:
        raise CaseFail("GET_MAX_MEM_SLOTS answered %d" % n)
    g.setup_mem()
    c.refused(p, "ADD_MEM_REG overlapping", ADD_MEM_REG,
              u64(0) + region(GPA_BASE + 0x1000, 0x1000, QVA_BASE + MEM_SIZE, 0), [g.memfd])
    c.refused(p, "ADD_MEM_REG zero size", ADD_MEM_REG,
              u64(0) + region(GPA_BASE + MEM_SIZE, 0, QVA_BASE + MEM_SIZE, 0), [g.memfd])
    c.refused(p, "ADD_MEM_REG without fd", ADD_MEM_REG,
              u64(0) + region(GPA_BASE + MEM_SIZE, 0x1000, QVA_BASE + MEM_SIZE, 0))
    c.refused(p, "REM_MEM_REG of nothing", REM_MEM_REG,
              u64(0) + region(0x1234000, 0x1000, 0x1234000, 0))
    # Fill every slot, then one more.
    fd = c.fd(new_memfd(0x1000))
    added = 1
    for i in range(int(n) + 1):
        base = GPA_BASE + (1 << 30) + i * 0x1000
        out, _ = p.outcome(ADD_MEM_REG, u64(0) + region(base, 0x1000, QVA_BASE + (1 << 30) +
                                                        i * 0x1000, 0), [fd])
        if out == "ack":
            added += 1
        elif added < n:
            raise CaseFail("ADD_MEM_REG %d of %d slots: %s" % (added + 1, n, out))
    if added > n:
        raise CaseFail("%d regions accepted with %d slots" % (added, n))
    c.still_usable(p, "memory slots")


def case_rem_mem_reg_under_traffic(c):
    p = c.peer()
    g = c.guest(p)
    g.handshake(want_pf=PF_MQ | PF_REPLY_ACK | PF_CONFIGURE_MEM_SLOTS)
    if not g.pf & PF_CONFIGURE_MEM_SLOTS:
        c.expect_log = False
        return
    g.loopback()
    # Remove the region the running rings live in: rings stop, nothing reads it.
    p.outcome(REM_MEM_REG, u64(0) + region(GPA_BASE, MEM_SIZE, QVA_BASE, 0))
    for _ in range(5):
        g.post_tx(g.frame())
    time.sleep(0.1)
    c.still_usable(p, "REM_MEM_REG under traffic")
    c.expect_log = False


def case_config_ranges(c):
    p = c.peer()
    g = c.guest(p)
    g.negotiate(want_pf=PF_MQ | PF_REPLY_ACK | PF_CONFIG)
    if not g.pf & PF_CONFIG:
        c.expect_log = False
        return
    for off, sz, extra in ((250, 10, 10), (0, 0xFFFFFFFF, 8), (0xFFFFFFF0, 0x20, 0x20),
                           (0, 8, 0), (0, 300, 256)):
        c.refused(p, "GET_CONFIG offset %#x size %#x" % (off, sz), GET_CONFIG,
                  struct.pack("<III", off, sz, 0) + bytes(extra),
                  allowed=("empty", "closed"))
        if p.eof:
            p = c.peer()
            g = c.guest(p)
            g.negotiate(want_pf=PF_MQ | PF_REPLY_ACK | PF_CONFIG)
    c.still_usable(p, "config ranges")


def case_log_base_bad(c):
    p = c.peer()
    g = c.guest(p)
    g.negotiate(want_pf=PF_MQ | PF_REPLY_ACK | PF_LOG_SHMFD)
    if not g.pf & PF_LOG_SHMFD:
        c.expect_log = False
        return
    small = c.fd(new_memfd(0x1000))
    c.refused(p, "SET_LOG_BASE of 1 TiB on a 4 KiB file", SET_LOG_BASE,
              struct.pack("<QQ", 1 << 40, 0), [small])
    if p.eof:
        p = c.peer()
        g = c.guest(p)
        g.negotiate(want_pf=PF_MQ | PF_REPLY_ACK | PF_LOG_SHMFD)
    c.refused(p, "SET_LOG_BASE with an overflowing offset", SET_LOG_BASE,
              struct.pack("<QQ", 0x1000, 0xFFFFFFFFFFFFF800), [small])
    if p.eof:
        p = c.peer()
        g = c.guest(p)
        g.negotiate(want_pf=PF_MQ | PF_REPLY_ACK | PF_LOG_SHMFD)
    c.refused(p, "SET_LOG_BASE of size 0", SET_LOG_BASE, struct.pack("<QQ", 0, 0), [small])


def case_log_shrunk(c):
    # Migration with a dirty log that the frontend shrinks while the datapath
    # writes to it: the device may be dropped, the daemon must live on.
    p = c.peer()
    g = c.guest(p)
    g.handshake(want_pf=PF_MQ | PF_REPLY_ACK | PF_LOG_SHMFD,
                want_f=VF_VERSION_1 | VF_PROTOCOL_FEATURES | VF_LOG_ALL)
    if not g.pf & PF_LOG_SHMFD or not g.features & VF_LOG_ALL:
        c.expect_log = False
        return
    # One bit per 4 KiB page of guest-physical address space up to our memory's end.
    log_size = ((GPA_BASE + MEM_SIZE) // 0x1000 + 7) // 8
    log_fd = c.fd(new_memfd(log_size, name="vdh-log"))
    out, _ = p.outcome(SET_LOG_BASE, struct.pack("<QQ", log_size, 0), [log_fd])
    if out != "ack":
        raise CaseFail("SET_LOG_BASE of a %d-byte log: %s" % (log_size, out))
    g.expect_ack("SET_FEATURES with LOG_ALL", SET_FEATURES, u64(g.features))
    g.loopback()
    with mmap.mmap(log_fd, log_size) as lm:
        first = GPA_BASE // 0x1000 // 8
        if not any(lm[first:log_size]):
            raise CaseFail("a frame went through with LOG_ALL but no page was logged")
    os.ftruncate(log_fd, 0)
    try:
        g.loopback(timeout=2.0)
    except CaseFail:
        pass
    if not p.wait_eof(5.0):
        raise CaseFail("dirty log shrunk to 0 under traffic: the device was not dropped "
                       "within 5s")


# Message sizes of the random storm, per request.
STORM_SIZES = {GET_FEATURES: 0, SET_FEATURES: 8, SET_OWNER: 0, RESET_OWNER: 0,
               SET_MEM_TABLE: 40, SET_LOG_BASE: 16, SET_LOG_FD: 0, SET_VRING_NUM: 8,
               SET_VRING_ADDR: 40, SET_VRING_BASE: 8, GET_VRING_BASE: 8, SET_VRING_KICK: 8,
               SET_VRING_CALL: 8, SET_VRING_ERR: 8, GET_PROTOCOL_FEATURES: 0,
               SET_PROTOCOL_FEATURES: 8, GET_QUEUE_NUM: 0, SET_VRING_ENABLE: 8, SEND_RARP: 8,
               NET_SET_MTU: 8, GET_CONFIG: 20, SET_CONFIG: 20, RESET_DEVICE: 0,
               GET_MAX_MEM_SLOTS: 0, ADD_MEM_REG: 40, REM_MEM_REG: 40, SET_STATUS: 8,
               GET_STATUS: 0}
INTERESTING = [0, 1, 2, 3, 0xFF, 0x100, 0x101, 256, 1000, 0x7FFF, 0x8000, 0xFFFF, 0x10000,
               0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, GPA_BASE, QVA_BASE, QVA_BASE + 0x1000,
               QVA_BASE + MEM_SIZE - 8, 0xFFFFFFFFFFFFFFFF, 0x8000000000000000]


def storm_payload(rng, req):
    size = STORM_SIZES.get(req, rng.choice([0, 8, 16, 40]))
    k = rng.random()
    if k < 0.1:
        size = rng.randrange(0, 280)
    if req == SET_MEM_TABLE and k >= 0.1:
        n = rng.choice([1, 1, 1, 2, 8, 0])
        regs = []
        for i in range(max(n, 1)):
            regs.append(region(GPA_BASE + i * 0x40000 if rng.random() < 0.7 else
                               rng.choice(INTERESTING),
                               rng.choice([0x1000, 0x40000, MEM_SIZE, 0] + INTERESTING),
                               QVA_BASE + i * 0x40000 if rng.random() < 0.7 else
                               rng.choice(INTERESTING),
                               rng.choice([0, 0x1000] + INTERESTING)))
        return memtable(regs[:n]) if n else memtable([]), n
    out = bytearray()
    while len(out) < size:
        c = rng.random()
        if c < 0.5:
            out += struct.pack("<I", rng.choice(INTERESTING) & 0xFFFFFFFF)
        elif c < 0.8:
            out += U64.pack(rng.choice(INTERESTING) & 0xFFFFFFFFFFFFFFFF)
        else:
            out += rng.randbytes(4)
    return bytes(out[:size]), 0


def case_random_storm(c):
    rng = random.Random(c.seed)
    t0 = time.monotonic()
    nmsg = nconn = 0
    p = None
    g = None
    guest_mem = c.fd(new_memfd(MEM_SIZE))
    junk = mmap.mmap(guest_mem, MEM_SIZE)
    junk[:] = rng.randbytes(MEM_SIZE)
    junk.close()
    b_checks = []
    next_b = t0 + 1.0
    while time.monotonic() - t0 < c.storm_seconds:
        if p is None or p.eof:
            if p is not None:
                p.close()
            p = Peer(c.a, timeout=0.5)
            nconn += 1
            if rng.random() < 0.6:
                # A legit prefix, so that ring requests reach deep states.
                try:
                    g = Guest(p)
                    g.negotiate(want_pf=rng.choice([PF_MQ | PF_REPLY_ACK, 0xFFFF & ~PF_BACKEND_REQ]))
                    p.acked(SET_MEM_TABLE, memtable([region(GPA_BASE, MEM_SIZE, QVA_BASE, 0)]),
                            [guest_mem])
                except (CaseFail, OSError, socket.timeout):
                    p.eof = True
                finally:
                    if g is not None:
                        g.close()
                        g = None
                continue
        req = rng.choice(list(STORM_SIZES) * 3 + [0, 26, 41, 99, 0xFFFFFFFF,
                                                  rng.randrange(1 << 32)])
        payload, nfd = storm_payload(rng, req)
        flags = F_VERSION | (F_NEED_REPLY if rng.random() < 0.5 else 0)
        if rng.random() < 0.03:
            flags = rng.choice([0, 2, 3, 5, 0x11, rng.randrange(1 << 32)])
        size = None
        if rng.random() < 0.03:
            size = rng.choice([len(payload) + 1, max(0, len(payload) - 1), 0xFFFFFFFF, 269, 268])
        fds, mine = [], []
        if req in (SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR) and rng.random() < 0.8:
            mine.append(os.eventfd(0, os.EFD_NONBLOCK))
        elif req in (SET_MEM_TABLE, ADD_MEM_REG, SET_LOG_BASE, SET_LOG_FD, REM_MEM_REG):
            for _ in range(nfd or rng.choice([0, 1, 1, 2])):
                mine.append(os.dup(guest_mem) if rng.random() < 0.8 else new_memfd(0x1000))
        if rng.random() < 0.05:
            for _ in range(rng.choice([1, 3, 9, 20])):
                r, w = os.pipe2(os.O_CLOEXEC)
                os.close(r)
                mine.append(w)
        fds = mine
        try:
            p.send(req, payload, fds, flags, size)
            nmsg += 1
        except (OSError, socket.timeout):
            p.eof = True
        for fd in mine:
            os.close(fd)
        # Drain whatever came back, never block on it.
        try:
            p.s.setblocking(False)
            while True:
                b = p.s.recv(65536)
                if not b:
                    p.eof = True
                    break
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            p.eof = True
        finally:
            if not p.eof:
                p.s.settimeout(0.5)
        if rng.random() < 0.02:
            p.close()
            p.eof = True
        if time.monotonic() >= next_b:
            next_b = time.monotonic() + 1.0
            pb, gb, dt = c.h.full_guest(c.b, B_BOUND)
            pb.finish()
            gb.close()
            b_checks.append(dt)
            if not c.d.alive():
                raise DaemonDead()
    if p is not None:
        p.close()
    c.notes.append("seed %d: %d messages on %d connections in %.1fs; B answered in %s s" %
                   (c.seed, nmsg, nconn, time.monotonic() - t0,
                    ", ".join("%.3f" % x for x in b_checks)))
    c.expect_log = False


# --- seeds for tests/fuzz/fuzz_vhu_msg (its record format: u8 ctl, u16 len
# LE, len bytes; ctl bits 0-3 = fds on the record, bits 4-5 = their kind:
# 0 memfd of 64 KiB, 1 eventfd, 2 pipe end, 3 mixed) -----------------------
FZ_MEM = 0x10000  # the fuzzer's memfds are 64 KiB


def fz(req, payload=b"", nfd=0, kind=0, flags=F_VERSION | F_NEED_REPLY, size=None):
    msg = HDR.pack(req & 0xFFFFFFFF, flags & 0xFFFFFFFF,
                   (len(payload) if size is None else size) & 0xFFFFFFFF) + payload
    return bytes([(nfd & 0xF) | (kind << 4)]) + struct.pack("<H", len(msg)) + msg


def fz_raw(data, nfd=0, kind=0):
    return bytes([(nfd & 0xF) | (kind << 4)]) + struct.pack("<H", len(data)) + data


def fz_legit(started=True):
    """A QEMU-like handshake of one queue pair in one 64 KiB region."""
    out = [fz(GET_FEATURES, flags=F_VERSION), fz(SET_OWNER, flags=F_VERSION),
           fz(GET_PROTOCOL_FEATURES, flags=F_VERSION),
           fz(SET_PROTOCOL_FEATURES, u64(PF_MQ | PF_REPLY_ACK | PF_CONFIGURE_MEM_SLOTS |
                                         PF_LOG_SHMFD | PF_CONFIG | PF_STATUS)),
           fz(GET_QUEUE_NUM, flags=F_VERSION),
           fz(SET_FEATURES, u64(VF_VERSION_1 | VF_PROTOCOL_FEATURES)),
           fz(SET_MEM_TABLE, memtable([region(GPA_BASE, FZ_MEM, QVA_BASE, 0)]), 1, 0)]
    if started:
        for q in (0, 1):
            o = VQ_OFF[q]
            out += [fz(SET_VRING_NUM, state(q, QSIZE)), fz(SET_VRING_BASE, state(q, 0)),
                    fz(SET_VRING_ADDR, vring_addr(q, QVA_BASE + o, QVA_BASE + o + 0x2000,
                                                  QVA_BASE + o + 0x1000)),
                    fz(SET_VRING_CALL, u64(q), 1, 1), fz(SET_VRING_KICK, u64(q), 1, 1),
                    fz(SET_VRING_ENABLE, state(q, 1))]
    return out


def fuzz_seeds():
    M = 0xFFFFFFFFFFFFFFFF
    pre = fz_legit(False)
    full = fz_legit(True)
    s = {"legit_handshake": full}
    s["truncated_header"] = [fz_raw(HDR.pack(GET_FEATURES, F_VERSION, 0)[:7])]
    s["truncated_payload_fds"] = [fz_raw(HDR.pack(SET_MEM_TABLE, F_VERSION, 40) +
                                         struct.pack("<II", 1, 0), 1, 0)]
    s["size_too_large"] = [fz(GET_FEATURES, size=0xFFFFFFFF), fz(GET_FEATURES, size=269)]
    s["size_mismatch"] = pre[:6] + [fz(SET_FEATURES, b"\0" * 4), fz(SET_VRING_NUM, state(0, 1) * 2),
                                    fz(SET_OWNER, u64(0)), fz(GET_FEATURES, u64(0))]
    s["unknown_requests"] = [fz(r, u64(0)) for r in (0, 99, 0xFFFFFFFF, 26, 41, IOTLB_MSG)]
    s["bad_flags"] = [fz(GET_FEATURES, flags=f) for f in (0, 2, 3, 5, 0x11)]
    s["missing_fds"] = pre + [fz(SET_VRING_KICK, u64(0)), fz(SET_VRING_CALL, u64(1)),
                              fz(SET_MEM_TABLE, memtable([region(GPA_BASE, FZ_MEM, QVA_BASE, 0)]))]
    s["surplus_fds"] = pre + [fz(GET_FEATURES, b"", 3, 2), fz(SET_OWNER, b"", 1, 1),
                              fz(SET_VRING_CALL, u64(0), 2, 1), fz(GET_FEATURES, b"", 15, 3)]
    s["vring_index_range"] = pre + [fz(SET_VRING_NUM, state(i, 256)) for i in
                                    (4, 1000, 0xFFFFFFFF)] + \
        [fz(GET_VRING_BASE, state(0xFFFF, 0)), fz(SET_VRING_KICK, u64(0x2FF), 1, 1)]
    s["ring_sizes"] = pre + [fz(SET_VRING_NUM, state(0, n)) for n in (0, 3, 65536, 32769)]
    s["vring_addr_outside"] = pre + [fz(SET_VRING_NUM, state(0, QSIZE))] + [
        fz(SET_VRING_ADDR, vring_addr(0, d, u, a)) for d, u, a in
        ((QVA_BASE - 0x1000, QVA_BASE, QVA_BASE), (QVA_BASE + FZ_MEM - 0x800, QVA_BASE, QVA_BASE),
         (M - 15, M - 15, M - 15), (QVA_BASE + 8, QVA_BASE + 0x2000, QVA_BASE + 0x1000))]
    s["regions_bad"] = pre[:6] + [
        fz(SET_MEM_TABLE, memtable([region(GPA_BASE, FZ_MEM, QVA_BASE, 0)] * 2), 2, 0),
        fz(SET_MEM_TABLE, memtable([region(GPA_BASE, 0, QVA_BASE, 0)]), 1, 0),
        fz(SET_MEM_TABLE, memtable([region(M - 0xFFF, 0x2000, QVA_BASE, 0)]), 1, 0),
        fz(SET_MEM_TABLE, memtable([region(GPA_BASE, 0x2000, QVA_BASE, M - 0xFFF)]), 1, 0),
        fz(SET_MEM_TABLE, memtable([region(GPA_BASE, 1 << 20, QVA_BASE, 0)]), 1, 0),
        fz(SET_MEM_TABLE, struct.pack("<II", 0xFFFFFFFF, 0) +
           region(GPA_BASE, 0x1000, QVA_BASE, 0), 1, 0),
        fz(SET_MEM_TABLE, memtable([region(GPA_BASE, 0x1000, QVA_BASE, 0)]), 1, 2)]
    s["out_of_order"] = pre[:6] + [
        fz(SET_VRING_ADDR, vring_addr(0, QVA_BASE, QVA_BASE + 0x2000, QVA_BASE + 0x1000)),
        fz(SET_VRING_KICK, u64(0), 1, 1)] + pre[6:] + [fz(SET_VRING_KICK, u64(0), 1, 1),
                                                        fz(RESET_OWNER),
                                                        fz(SET_VRING_KICK, u64(0), 1, 1)]
    s["features_not_offered"] = [fz(SET_FEATURES, u64(M)), fz(SET_PROTOCOL_FEATURES, u64(M)),
                                 fz(SET_PROTOCOL_FEATURES, u64(PF_REPLY_ACK)),
                                 fz(GET_QUEUE_NUM), fz(SET_LOG_BASE, struct.pack("<QQ", 0x1000, 0),
                                                       1, 0)]
    s["reconfigure_started_ring"] = full + [
        fz(SET_VRING_NUM, state(1, 512)), fz(SET_VRING_BASE, state(1, 7)),
        fz(SET_VRING_ADDR, vring_addr(1, QVA_BASE + 0x8000, QVA_BASE + 0xA000, QVA_BASE + 0x9000)),
        fz(SET_FEATURES, u64(VF_PROTOCOL_FEATURES)), fz(GET_VRING_BASE, state(1, 0)),
        fz(SET_MEM_TABLE, memtable([region(GPA_BASE, FZ_MEM // 2, QVA_BASE, 0)]), 1, 0)]
    s["pipe_fds"] = pre + [fz(SET_VRING_CALL, u64(0), 1, 2), fz(SET_VRING_KICK, u64(0), 1, 2),
                           fz(SET_VRING_ERR, u64(0), 1, 2), fz(SET_LOG_FD, b"", 1, 2)]
    s["mem_slots"] = pre + [fz(GET_MAX_MEM_SLOTS),
                            fz(ADD_MEM_REG, u64(0) + region(GPA_BASE + 0x1000, 0x1000, QVA_BASE, 0),
                               1, 0),
                            fz(ADD_MEM_REG, u64(0) + region(GPA_BASE + FZ_MEM, 0x1000,
                                                            QVA_BASE + FZ_MEM, 0), 1, 0),
                            fz(REM_MEM_REG, u64(0) + region(GPA_BASE, FZ_MEM, QVA_BASE, 0)),
                            fz(REM_MEM_REG, u64(0) + region(1, 2, 3, 4), 1, 0)]
    s["config_and_log"] = pre + [fz(GET_CONFIG, struct.pack("<III", 250, 10, 0) + bytes(10)),
                                 fz(GET_CONFIG, struct.pack("<III", 0, 24, 0) + bytes(24)),
                                 fz(SET_CONFIG, struct.pack("<III", 0, 6, 0) + bytes(6)),
                                 fz(SET_LOG_BASE, struct.pack("<QQ", 1 << 40, 0), 1, 0),
                                 fz(SET_STATUS, u64(0x1FF)), fz(GET_STATUS),
                                 fz(NET_SET_MTU, u64(67)), fz(SEND_RARP, u64(0x1234))]
    return s


def write_corpus(d):
    os.makedirs(d, exist_ok=True)
    for name, recs in sorted(fuzz_seeds().items()):
        with open(os.path.join(d, name), "wb") as f:
            f.write(b"".join(recs))
    print("%d seeds written to %s" % (len(fuzz_seeds()), d))


CASES = [
    ("truncated_header", case_truncated_header),
    ("truncated_payload_close", case_truncated_payload_close),
    ("size_too_large", case_size_too_large),
    ("size_mismatch", case_size_mismatch),
    ("unknown_requests", case_unknown_requests),
    ("bad_version_flags", case_bad_version_flags),
    ("missing_fds", case_missing_fds),
    ("surplus_fds", case_surplus_fds),
    ("vring_index_range", case_vring_index_range),
    ("ring_sizes", case_ring_sizes),
    ("vring_addr_outside", case_vring_addr_outside),
    ("regions_bad", case_regions_bad),
    ("memory_file_short", case_memory_file_short),
    ("memfd_shrunk_to_zero", case_memfd_shrunk_to_zero),
    ("memfd_shrunk_under_buffers", case_memfd_shrunk_under_buffers),
    ("memfd_sealed", case_memfd_sealed),
    ("out_of_order", case_out_of_order),
    ("features_not_offered", case_features_not_offered),
    ("reconfigure_started_ring", case_reconfigure_started_ring),
    ("call_pipe_unread", case_call_pipe_unread),
    ("call_pipe_full", case_call_pipe_full),
    ("call_pipe_no_reader", case_call_pipe_no_reader),
    ("kick_pipe", case_kick_pipe),
    ("call_eventfd_saturated", case_call_eventfd_saturated),
    ("err_eventfd_saturated", case_err_eventfd_saturated),
    ("mem_slots", case_mem_slots),
    ("rem_mem_reg_under_traffic", case_rem_mem_reg_under_traffic),
    ("config_ranges", case_config_ranges),
    ("log_base_bad", case_log_base_bad),
    ("log_shrunk", case_log_shrunk),
    ("garbage_rings", case_garbage_rings),
    ("connect_loop", case_connect_loop),
    ("never_reads_replies", case_never_reads_replies),
    ("slow_loris", case_slow_loris),
    ("concurrent_8", case_concurrent_8),
    ("random_storm", case_random_storm),
]

MUTANTS = {
    "nack-is-ack": "expect hostile requests to be accepted",
    "closed-stays-open": "expect framing errors to keep the connection open",
    "fd-strict": "allow no fd at all above the baseline minus one",
    "hold-conn": "keep a legit connection to B open while the fds are counted",
    "b-bound": "expect port B to answer within 0.1 ms",
    "probe-keep": "an fd handed to the daemon stays open (as if it leaked it)",
}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--a", help="socket of the attacked port A")
    ap.add_argument("--b", help="socket of the bystander port B")
    ap.add_argument("--pid", type=int, help="vhostd pid")
    ap.add_argument("--log", help="vhostd log file (for the refusal lines)")
    ap.add_argument("--only", help="comma-separated case names")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--write-corpus", metavar="DIR",
                    help="write seed inputs for tests/fuzz/fuzz_vhu_msg and exit")
    ap.add_argument("--seed", type=int, default=20240501)
    ap.add_argument("--storm-seconds", type=float, default=6.0)
    ap.add_argument("--mutant", choices=sorted(MUTANTS),
                    help="a deliberately broken expectation (the run must fail)")
    args = ap.parse_args()
    if args.write_corpus:
        write_corpus(args.write_corpus)
        return 0
    if args.list:
        for n, _ in CASES:
            print(n)
        return 0
    if not (args.a and args.b and args.pid):
        ap.error("--a, --b and --pid are required")
    cases = CASES
    if args.only:
        want = args.only.split(",")
        unknown = set(want) - {n for n, _ in CASES}
        if unknown:
            ap.error("unknown case(s): %s" % ", ".join(sorted(unknown)))
        cases = [x for x in CASES if x[0] in want]
    global MUTANT
    MUTANT = args.mutant
    if args.mutant:
        print("MUTANT %s: %s (this run must FAIL)" % (args.mutant, MUTANTS[args.mutant]))
    return Harness(args).run(cases)


if __name__ == "__main__":
    sys.exit(main())
