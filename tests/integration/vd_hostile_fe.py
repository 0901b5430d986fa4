#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
#
# A hostile vhost-user frontend for the smoke test test_virtio_user_hostile.sh.
# Each attack opens a fresh connection to the backend's socket and either
# breaks the protocol (garbage, oversized or truncated messages, unknown
# requests, wrong fd counts, bad memory tables, out-of-range vring indexes)
# or sets up a real device on a memfd "guest RAM" and then posts hostile
# rings on the guest TX queue (avail index far ahead, heads out of range,
# buffers outside guest memory, descriptor loops, bad indirect tables,
# address overflow). The backend must survive all of it: this script only
# drives the attacks and reports what it did; the shell test checks that the
# daemon is alive and that other guests (and this port, reconnected) still
# forward correctly.
#
# Usage: vd_hostile_fe.py SOCKET [ATTACK ...]   (no ATTACK: all of them)

import mmap
import os
import socket
import struct
import sys
import time

# vhost-user requests (QEMU docs/interop/vhost-user.rst)
GET_FEATURES = 1
SET_FEATURES = 2
SET_OWNER = 3
SET_MEM_TABLE = 5
SET_VRING_NUM = 8
SET_VRING_ADDR = 9
SET_VRING_BASE = 10
SET_VRING_KICK = 12
SET_VRING_CALL = 13
SET_VRING_ENABLE = 18
VERSION = 0x1
F_VERSION_1 = 1 << 32

RAM_SIZE = 2 << 20
RAM_UVA = 0x7F1200000000  # the frontend's (pretend) virtual address of RAM
QSIZE = 256
# ring layout in guest RAM (guest physical = offset)
DESC_GPA, AVAIL_GPA, USED_GPA, BUF_GPA = 0x0, 0x2000, 0x3000, 0x10000
VRING_DESC_F_NEXT, VRING_DESC_F_WRITE, VRING_DESC_F_INDIRECT = 1, 2, 4


def msg(req, payload=b"", flags=VERSION, size=None):
    return struct.pack("<III", req, flags, len(payload) if size is None else size) + payload


class Conn:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(2.0)
        self.s.connect(path)

    def send(self, data, fds=()):
        try:
            if fds:
                socket.send_fds(self.s, [data], list(fds))
            else:
                self.s.sendall(data)
            return True
        except OSError:
            return False  # the backend closed on us: an accepted outcome

    def recv_reply(self):
        try:
            hdr = self.s.recv(12)
            if len(hdr) < 12:
                return None
            _, _, size = struct.unpack("<III", hdr)
            return self.s.recv(size) if size else b""
        except OSError:
            return None

    def close(self):
        self.s.close()


def ram():
    fd = os.memfd_create("vd_hostile_ram")
    os.ftruncate(fd, RAM_SIZE)
    m = mmap.mmap(fd, RAM_SIZE)
    return fd, m


def mem_table(nregions, regions):
    body = struct.pack("<II", nregions, 0)
    for r in regions:
        body += struct.pack("<QQQQ", *r)
    return body


def vring_addr(idx):
    # the guest TX ring (1) is the one attacked; the RX ring (0) sits apart
    off = 0x8000 if idx == 0 else 0
    return struct.pack("<IIQQQQ", idx, 0, RAM_UVA + off + DESC_GPA, RAM_UVA + off + USED_GPA,
                       RAM_UVA + off + AVAIL_GPA, 0)


def device(path):
    """A well-formed device with one queue pair on a memfd; returns (conn, ram, kickfds)."""
    c = Conn(path)
    fd, m = ram()
    c.send(msg(GET_FEATURES))
    c.recv_reply()
    c.send(msg(SET_FEATURES, struct.pack("<Q", F_VERSION_1)))
    c.send(msg(SET_OWNER))
    c.send(msg(SET_MEM_TABLE, mem_table(1, [(0, RAM_SIZE, RAM_UVA, 0)])), [fd])
    kicks = []
    for idx in (0, 1):
        c.send(msg(SET_VRING_NUM, struct.pack("<II", idx, QSIZE)))
        c.send(msg(SET_VRING_ADDR, vring_addr(idx)))
        c.send(msg(SET_VRING_BASE, struct.pack("<II", idx, 0)))
        call = os.eventfd(0)
        kick = os.eventfd(0)
        c.send(msg(SET_VRING_CALL, struct.pack("<Q", idx)), [call])
        c.send(msg(SET_VRING_KICK, struct.pack("<Q", idx)), [kick])
        kicks += [call, kick]
    for idx in (0, 1):
        c.send(msg(SET_VRING_ENABLE, struct.pack("<II", idx, 1)))
    os.close(fd)
    return c, m, kicks


def put_desc(m, i, addr, ln, flags, nxt, base=DESC_GPA):
    struct.pack_into("<QIHH", m, base + 16 * i, addr, ln, flags, nxt)


def post(m, heads, avail_idx=None):
    """Post heads on the guest TX (device-readable) ring of the RAM's only ring."""
    idx = struct.unpack_from("<H", m, AVAIL_GPA + 2)[0]
    for h in heads:
        struct.pack_into("<H", m, AVAIL_GPA + 4 + 2 * (idx % QSIZE), h)
        idx = (idx + 1) & 0xFFFF
    struct.pack_into("<H", m, AVAIL_GPA + 2, idx if avail_idx is None else avail_idx)


def ring_attack(path, setup):
    c, m, fds = device(path)
    time.sleep(0.2)  # let the backend start polling
    setup(m)
    for f in fds[1::2]:
        os.eventfd_write(f, 1)
    time.sleep(0.3)
    c.close()
    for f in fds:
        os.close(f)
    m.close()


def hdr_then(m, i, nxt_flags, nxt):
    # a 12-byte virtio-net header buffer first, as a guest would send
    put_desc(m, i, BUF_GPA, 12, nxt_flags, nxt)


ATTACKS = {}


def attack(fn):
    ATTACKS[fn.__name__] = fn
    return fn


@attack
def garbage(path):
    c = Conn(path)
    c.send(os.urandom(4096))
    c.close()


@attack
def huge_size(path):
    c = Conn(path)
    c.send(msg(SET_VRING_NUM, b"\0" * 8, size=0xFFFFFFF0))
    c.close()


@attack
def truncated(path):
    c = Conn(path)
    c.send(struct.pack("<II", GET_FEATURES, VERSION))  # 8 of 12 header bytes
    c.close()


@attack
def unknown_request(path):
    c = Conn(path)
    c.send(msg(9999, b"\0" * 8))
    c.send(msg(0, b""))
    c.close()


@attack
def bad_version(path):
    c = Conn(path)
    c.send(msg(GET_FEATURES, flags=0x7))
    c.close()


@attack
def mem_table_fd_mismatch(path):
    c = Conn(path)
    fd, m = ram()
    fd2 = os.memfd_create("extra")
    c.send(msg(SET_OWNER))
    # one region announced, two fds passed; then two regions, no fd
    c.send(msg(SET_MEM_TABLE, mem_table(1, [(0, RAM_SIZE, RAM_UVA, 0)])), [fd, fd2])
    c.send(msg(SET_MEM_TABLE, mem_table(2, [(0, RAM_SIZE, RAM_UVA, 0)] * 2)))
    c.close()
    os.close(fd)
    os.close(fd2)
    m.close()


@attack
def mem_table_bad_regions(path):
    c = Conn(path)
    fd, m = ram()
    c.send(msg(SET_OWNER))
    c.send(msg(SET_MEM_TABLE, mem_table(200, [(0, RAM_SIZE, RAM_UVA, 0)])), [fd])
    c.send(msg(SET_MEM_TABLE, mem_table(1, [(0, 0, RAM_UVA, 0)])), [fd])  # size 0
    # offset + size past the file, and a wrapping guest range
    c.send(msg(SET_MEM_TABLE, mem_table(1, [(0, RAM_SIZE, RAM_UVA, RAM_SIZE)])), [fd])
    c.send(msg(SET_MEM_TABLE, mem_table(1, [(2**64 - 4096, RAM_SIZE, RAM_UVA, 0)])), [fd])
    c.send(msg(SET_MEM_TABLE, mem_table(2, [(0, RAM_SIZE, RAM_UVA, 0)] * 2)), [fd, fd])  # overlap
    c.close()
    os.close(fd)
    m.close()


@attack
def vring_index_range(path):
    c = Conn(path)
    c.send(msg(SET_OWNER))
    for req in (SET_VRING_NUM, SET_VRING_BASE, SET_VRING_ENABLE):
        c.send(msg(req, struct.pack("<II", 1000, 256)))
        c.send(msg(req, struct.pack("<II", 0xFFFFFFFF, 1)))
    c.send(msg(SET_VRING_NUM, struct.pack("<II", 0, 0)))
    c.send(msg(SET_VRING_NUM, struct.pack("<II", 0, 300)))  # not a power of 2
    c.send(msg(SET_VRING_NUM, struct.pack("<II", 0, 65535)))
    c.send(msg(SET_VRING_ADDR, vring_addr(1000)))
    c.send(msg(SET_VRING_KICK, struct.pack("<Q", 0xFF)), [os.eventfd(0)])
    c.close()


@attack
def vring_unmapped(path):
    # rings at addresses no region covers, then started
    c = Conn(path)
    c.send(msg(SET_FEATURES, struct.pack("<Q", F_VERSION_1)))
    c.send(msg(SET_OWNER))
    c.send(msg(SET_VRING_NUM, struct.pack("<II", 1, QSIZE)))
    c.send(msg(SET_VRING_ADDR, struct.pack("<IIQQQQ", 1, 0, 0xDEAD0000, 0xDEAD1000,
                                             0xDEAD2000, 0)))
    c.send(msg(SET_VRING_KICK, struct.pack("<Q", 1)), [os.eventfd(0)])
    time.sleep(0.2)
    c.close()


@attack
def avail_idx_far_ahead(path):
    ring_attack(path, lambda m: post(m, [0], avail_idx=5000))


@attack
def head_out_of_range(path):
    ring_attack(path, lambda m: post(m, [QSIZE + 7, 0xFFFF]))


@attack
def buffer_outside_ram(path):
    def setup(m):
        hdr_then(m, 0, VRING_DESC_F_NEXT, 1)
        put_desc(m, 1, RAM_SIZE + 0x1000, 1500, 0, 0)  # past the region
        hdr_then(m, 2, VRING_DESC_F_NEXT, 3)
        put_desc(m, 3, RAM_SIZE - 100, 1500, 0, 0)  # straddles its end
        hdr_then(m, 4, VRING_DESC_F_NEXT, 5)
        put_desc(m, 5, 2**64 - 16, 1500, 0, 0)  # address + len wraps
        hdr_then(m, 6, VRING_DESC_F_NEXT, 7)
        put_desc(m, 7, BUF_GPA, 0xFFFFFFFF, 0, 0)  # 4 GiB buffer
        post(m, [0, 2, 4, 6])
    ring_attack(path, setup)


@attack
def descriptor_loop(path):
    def setup(m):
        hdr_then(m, 0, VRING_DESC_F_NEXT, 1)
        put_desc(m, 1, BUF_GPA + 64, 64, VRING_DESC_F_NEXT, 2)
        put_desc(m, 2, BUF_GPA + 128, 64, VRING_DESC_F_NEXT, 1)  # 1 -> 2 -> 1
        put_desc(m, 3, BUF_GPA, 64, VRING_DESC_F_NEXT, QSIZE + 5)  # next out of range
        post(m, [0, 3])
    ring_attack(path, setup)


@attack
def bad_indirect(path):
    def setup(m):
        table = BUF_GPA + 0x1000
        # indirect length not a multiple of 16
        put_desc(m, 0, table, 17, VRING_DESC_F_INDIRECT, 0)
        # nested indirect
        put_desc(m, 1, table, 32, VRING_DESC_F_INDIRECT, 0)
        put_desc(m, 0, table, 64, VRING_DESC_F_INDIRECT, 0, base=table)
        # indirect table outside RAM, and an indirect loop
        put_desc(m, 2, RAM_SIZE + 0x100000, 64, VRING_DESC_F_INDIRECT, 0)
        t2 = BUF_GPA + 0x2000
        put_desc(m, 3, t2, 32, VRING_DESC_F_INDIRECT, 0)
        put_desc(m, 0, BUF_GPA, 12, VRING_DESC_F_NEXT, 1, base=t2)
        put_desc(m, 1, BUF_GPA, 12, VRING_DESC_F_NEXT, 0, base=t2)
        post(m, [0, 1, 2, 3])
    ring_attack(path, setup)


@attack
def write_desc_on_tx(path):
    # device-writable buffers where the device must only read, and a chain
    # longer than the ring
    def setup(m):
        hdr_then(m, 0, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1)
        put_desc(m, 1, BUF_GPA, 64, VRING_DESC_F_WRITE, 0)
        for i in range(2, QSIZE):
            put_desc(m, i, BUF_GPA, 1, VRING_DESC_F_NEXT, 2 + (i - 1) % (QSIZE - 2))
        post(m, [0, 2])
    ring_attack(path, setup)


def main():
    if len(sys.argv) < 2:
        print(__doc__ or "usage: vd_hostile_fe.py SOCKET [ATTACK ...]")
        return 2
    path = sys.argv[1]
    names = sys.argv[2:] or list(ATTACKS)
    for n in names:
        if n not in ATTACKS:
            print("unknown attack %s; known: %s" % (n, " ".join(ATTACKS)))
            return 2
    for n in names:
        try:
            ATTACKS[n](path)
            print("attack %s: sent" % n, flush=True)
        except (ConnectionRefusedError, FileNotFoundError) as e:
            # the listening socket is gone: the backend died or closed it
            print("attack %s: cannot connect: %s" % (n, e), flush=True)
            return 1
        except OSError as e:
            print("attack %s: connection dropped by the backend (%s)" % (n, e), flush=True)
        time.sleep(0.1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
