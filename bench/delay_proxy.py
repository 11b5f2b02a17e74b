"""Loopback HTTP/1.1 proxy for bench/vs-promptfoo.sh: counts requests and optionally delays them.

    python3 bench/delay_proxy.py LISTEN_PORT UPSTREAM_PORT [DELAY_MS=0] [LOG_FILE]

Listens on 127.0.0.1:LISTEN_PORT and forwards every request to 127.0.0.1:UPSTREAM_PORT (one upstream
connection per client connection, keep-alive), after sleeping DELAY_MS. `GET /__count` is answered by
the proxy itself: `{"requests": N}`, the number of requests forwarded so far. With LOG_FILE, each
forwarded request's head (request line and headers) is appended to it as one line. Standard library only;
it never connects anywhere but 127.0.0.1.
"""
import asyncio
import json
import sys

LISTEN, UPSTREAM = int(sys.argv[1]), int(sys.argv[2])
DELAY = (int(sys.argv[3]) if len(sys.argv) > 3 else 0) / 1000.0
LOG = sys.argv[4] if len(sys.argv) > 4 else None  # optional file: one line per request (request line + headers)
count = 0


async def read_message(reader):
    """Reads one HTTP/1.1 message (head + body); returns (head bytes, body bytes) or None at EOF."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    length, chunked = 0, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if not chunked:
        return head, await reader.readexactly(length) if length else b""
    body = b""
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";")[0].strip(), 16)
        chunk = await reader.readexactly(size + 2)
        body += size_line + chunk
        if size == 0:
            return head, body


async def handle(creader, cwriter):
    global count
    upstream = None
    try:
        while True:
            msg = await read_message(creader)
            if msg is None:
                break
            head, body = msg
            if head.startswith(b"GET /__count "):
                payload = json.dumps({"requests": count}).encode()
                cwriter.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                              + str(len(payload)).encode() + b"\r\n\r\n" + payload)
                await cwriter.drain()
                continue
            count += 1
            if LOG:
                with open(LOG, "ab") as f:
                    f.write(head.replace(b"\r\n", b" | ").rstrip(b" |") + b"\n")
            if DELAY:
                await asyncio.sleep(DELAY)
            if upstream is None:
                upstream = await asyncio.open_connection("127.0.0.1", UPSTREAM)
            ureader, uwriter = upstream
            uwriter.write(head + body)
            await uwriter.drain()
            reply = await read_message(ureader)
            if reply is None:
                break
            cwriter.write(reply[0] + reply[1])
            await cwriter.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        if upstream is not None:
            upstream[1].close()
        cwriter.close()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", LISTEN, backlog=2048)
    async with server:
        await server.serve_forever()


asyncio.run(main())
