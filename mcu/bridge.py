#!/usr/bin/env python3
"""mcu/bridge.py DIR HOST PORT: the firmware's network under qemu. The
firmware opens DIR/tx to send and DIR/rx to receive (semihosting opens host
files); each time it opens them, this joins them to a new TCP connection to
HOST:PORT, until the firmware closes tx or the server closes the socket.
Runs until killed."""
import os
import select
import socket
import sys


def serve(d, host, port):
    tx_path, rx_path = os.path.join(d, "tx"), os.path.join(d, "rx")
    while True:
        tx = os.open(tx_path, os.O_RDONLY)  # waits for the firmware's connect
        rx = os.open(rx_path, os.O_WRONLY)
        sock = socket.create_connection((host, port))
        sock_open = True
        while True:
            ready, _, _ = select.select([tx, sock] if sock_open else [tx], [], [])
            if tx in ready:
                data = os.read(tx, 65536)
                if not data:  # the firmware closed the connection
                    break
                sock.sendall(data)
            if sock_open and sock in ready:
                data = sock.recv(65536)
                if data:
                    try:
                        while data:
                            data = data[os.write(rx, data):]
                    except BrokenPipeError:
                        break
                else:  # the server closed: the firmware reads the end
                    sock_open = False
                    os.close(rx)
                    rx = -1
        sock.close()
        if rx >= 0:
            os.close(rx)
        os.close(tx)


if __name__ == "__main__":
    d = sys.argv[1]
    for name in ("tx", "rx"):
        p = os.path.join(d, name)
        if not os.path.exists(p):
            os.mkfifo(p)
    serve(d, sys.argv[2], int(sys.argv[3]))
