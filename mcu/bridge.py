#!/usr/bin/env python3
"""mcu/bridge.py DIR HOST PORT: the firmware's network under qemu. The
firmware's Nth connection opens DIR/txN to send and DIR/rxN to receive
(semihosting opens host files); this joins them to a new TCP connection to
HOST:PORT until the firmware closes txN or the server closes the socket. One
FIFO pair per connection: a closed pair is never reopened, so a connection's
last bytes cannot leak into the next one. Runs until killed."""
import os
import select
import socket
import sys


def fifo(d, name):
    p = os.path.join(d, name)
    if not os.path.exists(p):
        os.mkfifo(p)
    return p


def serve(d, host, port):
    k = 0
    fifo(d, "tx0")
    fifo(d, "rx0")
    while True:
        # the next pair exists before this one can end: the firmware opens it at once
        fifo(d, "tx%d" % (k + 1))
        fifo(d, "rx%d" % (k + 1))
        tx = os.open(os.path.join(d, "tx%d" % k), os.O_RDONLY)  # waits for the firmware's connect
        rx = os.open(os.path.join(d, "rx%d" % k), os.O_WRONLY)
        sock = socket.create_connection((host, port))
        sock_open = True
        while True:
            ready, _, _ = select.select([tx, sock] if sock_open else [tx], [], [])
            if tx in ready:
                data = os.read(tx, 65536)
                if not data:  # the firmware closed the connection
                    break
                if sock_open:
                    sock.sendall(data)
            if sock_open and sock in ready:
                data = sock.recv(65536)
                if data:
                    try:
                        while data:
                            data = data[os.write(rx, data):]
                    except BrokenPipeError:  # the firmware stopped reading: wait for its close
                        sock_open = False
                else:  # the server closed: the firmware reads the end
                    sock_open = False
                    os.close(rx)
                    rx = -1
        sock.close()
        if rx >= 0:
            os.close(rx)
        os.close(tx)
        os.unlink(os.path.join(d, "tx%d" % k))
        os.unlink(os.path.join(d, "rx%d" % k))
        k += 1


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2], int(sys.argv[3]))
