#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Host end of the guest's "tcp" check. Two TCP services on one address:
#   sink   (--sinkport): read until the client half-closes, answer with the
#          SHA-256 (hex) of the bytes received, close. The guest compares it
#          with the hash of what it sent.
#   source (--srcport):  send the file given by --srcfile, then close. The
#          guest compares size and hash with vd.rxbytes/vd.rxsha.
# Every completed transfer is logged as "sink <bytes> <sha256>" or
# "source <bytes>" on stdout so the test can count them. Runs until killed,
# or for --lifetime seconds, so a lost test never leaves it behind for long.
import argparse
import hashlib
import socket
import sys
import threading
import time


def log(msg):
    print(msg, flush=True)


def sink(conn):
    h = hashlib.sha256()
    n = 0
    conn.settimeout(120)
    while True:
        b = conn.recv(1 << 16)
        if not b:
            break
        h.update(b)
        n += len(b)
    conn.sendall(h.hexdigest().encode() + b"\n")
    log("sink %d %s" % (n, h.hexdigest()))


def source(conn, data):
    conn.settimeout(120)
    conn.sendall(data)
    log("source %d" % len(data))


def serve(addr, port, handler):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(8)
    log("listen %s:%d" % (addr, port))

    def one(conn):
        try:
            handler(conn)
        except OSError as e:
            log("error %s" % e)
        finally:
            conn.close()

    while True:
        conn, _ = s.accept()
        threading.Thread(target=one, args=(conn,), daemon=True).start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", required=True)
    ap.add_argument("--sinkport", type=int, default=5001)
    ap.add_argument("--srcport", type=int, default=5002)
    ap.add_argument("--srcfile")
    ap.add_argument("--lifetime", type=int, default=1800)
    a = ap.parse_args()
    threading.Thread(target=serve, args=(a.bind, a.sinkport, sink), daemon=True).start()
    if a.srcfile:
        with open(a.srcfile, "rb") as f:
            data = f.read()
        threading.Thread(target=serve, args=(a.bind, a.srcport, lambda c: source(c, data)),
                         daemon=True).start()
    time.sleep(a.lifetime)
    return 0


if __name__ == "__main__":
    sys.exit(main())
