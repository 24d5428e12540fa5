"""Opens N connections to 127.0.0.1:PORT at once, then each sends GET / and
POST /echo on its connection; prints "N ok" when every answer was right."""

import http.client
import sys
import threading

port, count = int(sys.argv[1]), int(sys.argv[2])
barrier = threading.Barrier(count, timeout=30)
ok = []
errors = []


def client(i):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.connect()
        barrier.wait()
        conn.request("GET", "/")
        response = conn.getresponse()
        assert (response.status, response.read()) == (200, b"Hello, World!")
        body = f"client {i}".encode()
        conn.request("POST", "/echo", body=body)
        response = conn.getresponse()
        assert (response.status, response.read()) == (200, body)
        conn.close()
        ok.append(i)
    except Exception as e:  # reported below, counted as a failure
        errors.append(repr(e))


threads = [threading.Thread(target=client, args=(i,)) for i in range(count)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"{len(ok)} ok, {len(errors)} failed {errors[:3]}")
sys.exit(0 if len(ok) == count else 1)
