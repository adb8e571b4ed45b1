"""A stand-in for a store that misbehaves, for the tests of an http:// root:
it answers each path the way its first segment says, and logs each
request and how many body bytes it got out before the client left.

usage: misbehaving-store.py PORT IMAGE LOG
  /big/...       IMAGE padded to 8 MiB, Content-Length declared, sent slowly
  /chunked/...   the same, chunked: no length to refuse before the body
  /text/...      a megabyte of text, sent slowly
  /hang/...      reads the request, then answers nothing for 20 s
  /cut/...       declares IMAGE's length, sends half of it, closes
  /redirect/...  302 to /big/, which a client must not follow
  /nolength/...  IMAGE with neither Content-Length nor chunking, then closes
  /403/..., /503/...  that status, with an empty body
"""
import socket
import sys
import threading
import time

port, image_path, log_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(image_path, "rb") as file:
    image = file.read()
log_lock = threading.Lock()


def log(line):
    with log_lock, open(log_path, "a") as file:
        file.write(line + "\n")


def send_slowly(connection, head, body):
    """Sends in 4 KiB pieces, 5 ms apart, so a client that stops early is seen early."""
    sent = 0
    try:
        connection.sendall(head)
        while sent < len(body):
            piece = body[sent:sent + 4096]
            connection.sendall(piece)
            sent += len(piece)
            time.sleep(0.005)
    except OSError:
        pass
    return sent


def serve(connection):
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    request = b""
    while b"\r\n\r\n" not in request and len(request) < 65536:
        data = connection.recv(4096)
        if not data:
            return
        request += data
    target = request.split(b" ")[1].decode()
    kind = target.split("/")[1]
    sent = 0
    if kind == "big":
        body = image + b"\0" * (8 * 1024 * 1024 - len(image))
        sent = send_slowly(connection, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body), body)
    elif kind == "chunked":
        body = image + b"\0" * (8 * 1024 * 1024 - len(image))
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 4096]), body[i:i + 4096])
                          for i in range(0, len(body), 4096)) + b"0\r\n\r\n"
        sent = send_slowly(connection, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", chunks)
    elif kind == "text":
        body = b"not an image at all\n" * 50000
        sent = send_slowly(connection, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body), body)
    elif kind == "hang":
        time.sleep(20)
    elif kind == "cut":
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(image))
        connection.sendall(image[:len(image) // 2])
        sent = len(image) // 2
    elif kind == "redirect":
        connection.sendall(b"HTTP/1.1 302 Found\r\nLocation: /big/x.jpg\r\nContent-Length: 0\r\n\r\n")
    elif kind in ("403", "503"):
        connection.sendall(b"HTTP/1.1 %s Refused\r\nContent-Length: 0\r\n\r\n" % kind.encode())
    elif kind == "nolength":
        connection.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + image)
        sent = len(image)
    log(f"{target} {sent}")
    connection.close()


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen(16)
while True:
    connection, _ = listener.accept()
    threading.Thread(target=serve, args=(connection,), daemon=True).start()
