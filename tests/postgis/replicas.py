"""Two real servers on one PostgreSQL store: replicas (run by tests/postgis/replicas.sh).

  replicas.py all        every check below, in order
  replicas.py bench N    N writes on A, the delay until B shows each (items, SSE): p50/p99

Checks:
  visible   a write on A shows on B within 1 s: items, the single feature, radius, a tile
            (fetched on B before the write, so a stale cache entry would show), and an event
            on B's SSE stream
  preconds  If-Match with an ETag of B after A changed the feature: 412 on B; an
            Idempotency-Key used on A replays on B, and conflicts there with another body
  crash     writers on both servers while A is killed (SIGKILL) and restarted: no
            acknowledged write lost, no create duplicated
  outage    PostgreSQL stopped and started again in the middle of writes: 503 while it is
            down, reads go on, nothing acknowledged lost, and the two servers then hold
            identical layers, compared feature by feature

Environment: ATLAS_BIN, ATLAS_CONFIG (layers), PG_URL, PG_DIR, PG_PORT, PORT_A, PORT_B, WORK
(server logs and data directories). Standard library only.
"""

import gzip
import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKEN = "replica-test-token"
LAYER = "incidents"


class Server:
    """One khorasan-atlas process on the shared store."""

    def __init__(self, name, port):
        self.name, self.port, self.proc = name, port, None
        self.log = os.path.join(os.environ["WORK"], f"server-{name}.log")

    def start(self):
        env = dict(os.environ, KHORASAN_WRITE_TOKEN=TOKEN, RUST_LOG="warn")
        with open(self.log, "a", encoding="utf-8") as log:
            self.proc = subprocess.Popen(
                [os.environ["ATLAS_BIN"], "--config", os.environ["ATLAS_CONFIG"],
                 "--store", os.environ["PG_URL"], "--listen", f"127.0.0.1:{self.port}",
                 "--data-dir", os.path.join(os.environ["WORK"], f"data-{self.name}"),
                 "--workers", "2", "--no-watch"],
                stdout=subprocess.DEVNULL, stderr=log, env=env)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if request(self.port, "GET", "/health")[0] == 200:
                    return
            except OSError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise SystemExit(f"server {self.name} did not start; see {self.log}")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def request(port, method, path, body=None, headers=None, timeout=10):
    """(status, headers dict, body bytes); raises OSError when the server is unreachable."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        h = dict(headers or {})
        data = None
        if body is not None:
            data = body.encode() if isinstance(body, str) else body
            h.setdefault("Content-Type", "application/geo+json")
        if method != "GET":
            h["Authorization"] = f"Bearer {TOKEN}"
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        payload = r.read()
        if r.getheader("Content-Encoding") == "gzip":
            payload = gzip.decompress(payload)
        return r.status, {k.lower(): v for k, v in r.getheaders()}, payload
    except http.client.HTTPException as e:
        raise OSError(str(e)) from e
    finally:
        conn.close()


def get_json(port, path):
    status, _, body = request(port, "GET", path)
    assert status == 200, f"GET {path} on {port}: {status} {body[:300]!r}"
    return json.loads(body)


def incident(title, lon=69.2, lat=34.5):
    return json.dumps({
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"date": "2026-01-01", "title": title, "deaths": 0,
                       "sources": ["https://example.org/replicas"]},
    })


def tile_of(lon, lat, z):
    import math
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


class Events:
    """Reads B's event stream in a thread; remembers when each event arrived."""

    def __init__(self, port):
        self.seen = {}
        self.lock = threading.Lock()
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.conn.request("GET", f"/collections/{LAYER}/events")
        self.response = self.conn.getresponse()
        assert self.response.status == 200, self.response.status
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        try:
            for line in self.response:
                line = line.decode().strip()
                if line.startswith("data:"):
                    event = json.loads(line[5:])
                    with self.lock:
                        self.seen.setdefault((event["type"], event["id"]), time.time())
        except (OSError, ValueError):
            pass

    def when(self, kind, fid):
        with self.lock:
            return self.seen.get((kind, fid))


def one_visible_write(a, b, events, n):
    """Creates a feature on A; returns the delays until B shows it everywhere."""
    lon, lat = 60.5 + (n % 50) * 0.13, 29.5 + (n % 37) * 0.11
    title = f"replica visibility {n} {random.random()}"
    z, x, y = tile_of(lon, lat, 14)
    tile_path = f"/tiles/{LAYER}/{z}/{x}/{y}"
    status, _, before = request(b.port, "GET", tile_path)
    assert status in (200, 204), f"tile before: {status}"
    assert title.encode() not in before
    started = time.time()
    status, _, body = request(a.port, "POST", f"/collections/{LAYER}/items", incident(title, lon, lat))
    acked = time.time()
    assert status == 201, f"POST on A: {status} {body[:300]!r}"
    fid = json.loads(body)["id"]
    q = urllib.parse.quote
    checks = {
        "item": f"/collections/{LAYER}/items/{fid}",
        "items": f"/collections/{LAYER}/items?limit=10000&title={q(title)}",
        "radius": f"/collections/{LAYER}/radius?coords={q(f'POINT({lon} {lat})')}&within=1&within-units=km&limit=10000",
        "tile": tile_path,
    }
    delays = {}
    while len(delays) < len(checks) + 1 and time.time() - acked < 5:
        for name, path in checks.items():
            if name in delays:
                continue
            status, _, payload = request(b.port, "GET", path)
            if name == "item":
                ok = status == 200 and json.loads(payload)["properties"]["title"] == title
            elif name == "tile":
                ok = status == 200 and title.encode() in payload
            else:
                ok = status == 200 and any(
                    f["id"] == fid for f in json.loads(payload)["features"])
            if ok:
                delays[name] = time.time() - acked
        seen = events.when("create", fid)
        if seen is not None and "event" not in delays:
            delays["event"] = max(0.0, seen - acked)
        time.sleep(0.005)
    missing = set(checks) | {"event"}
    missing -= set(delays)
    assert not missing, f"write {fid} on A not visible on B after 5 s: {sorted(missing)}"
    return fid, acked - started, delays


def check_visible(a, b, writes=10):
    events = Events(b.port)
    time.sleep(0.2)
    worst = 0.0
    for n in range(writes):
        fid, _, delays = one_visible_write(a, b, events, n)
        worst = max(worst, max(delays.values()))
        assert max(delays.values()) < 1.0, f"write {fid}: visible on B only after {delays}"
    print(f"visible: {writes} writes on A seen on B (items, feature, radius, tile, event); "
          f"slowest {worst * 1000:.0f} ms")


def check_preconditions(a, b):
    status, _, body = request(a.port, "POST", f"/collections/{LAYER}/items", incident("precondition"))
    assert status == 201, status
    fid = json.loads(body)["id"]
    path = f"/collections/{LAYER}/items/{fid}"
    deadline = time.time() + 2
    while request(b.port, "GET", path)[0] != 200:
        assert time.time() < deadline, "the feature did not reach B"
        time.sleep(0.02)
    _, headers, _ = request(b.port, "GET", path)
    old = headers["etag"]
    status, headers_a, _ = request(a.port, "PUT", path, incident("changed on A"), {"If-Match": old})
    assert status == 200, f"PUT on A with the current ETag: {status}"
    # B has not necessarily applied A's change yet: it must still refuse the old ETag.
    status, _, body = request(b.port, "PUT", path, incident("lost update on B"), {"If-Match": old})
    assert status == 412, f"PUT on B with an ETag A made stale: {status} {body[:200]!r}"
    status, _, _ = request(b.port, "PUT", path, incident("after A on B"), {"If-Match": headers_a["etag"]})
    assert status == 200, f"PUT on B with A's new ETag: {status}"
    key = f"replica-key-{random.random()}"
    body = incident("idempotent create")
    status, _, first = request(a.port, "POST", f"/collections/{LAYER}/items", body, {"Idempotency-Key": key})
    assert status == 201, status
    status, headers, again = request(b.port, "POST", f"/collections/{LAYER}/items", body, {"Idempotency-Key": key})
    assert status == 201 and headers.get("idempotent-replayed") == "true", (status, headers)
    assert again == first, "the replay on B differs from the first answer on A"
    status, _, _ = request(b.port, "POST", f"/collections/{LAYER}/items", incident("other body"), {"Idempotency-Key": key})
    assert status == 409, f"the key with another body on B: {status}"
    print("preconditions: If-Match 412 and Idempotency-Key replay/409 hold across servers")


class Writers:
    """Writers on both servers, each owning its features; a ledger of what may be stored.

    For every feature a writer made, `allowed` holds the titles the feature may have (None:
    deleted): one after an acknowledged write; after a write whose answer was lost, the
    states before and after it."""

    def __init__(self, servers, count):
        self.servers, self.count = servers, count
        self.tag = f"{random.getrandbits(32):08x}"
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.allowed = {}  # fid -> set of titles (None = deleted)
        self.created_titles = set()
        self.acked = 0
        self.status_counts = {}
        self.threads = [threading.Thread(target=self.run, args=(w,), daemon=True) for w in range(count)]

    def note(self, status):
        with self.lock:
            self.status_counts[status] = self.status_counts.get(status, 0) + 1

    def send(self, method, path, body=None, headers=None):
        server = random.choice(self.servers)
        try:
            status, h, payload = request(server.port, method, path, body, headers, timeout=15)
        except OSError:
            self.note("down")
            return None, server.name, None
        self.note(status)
        return status, server.name, payload

    def run(self, w):
        rng = random.Random(w)
        mine = []
        n = 0
        while not self.stop.is_set():
            n += 1
            action = rng.random()
            if action < 0.5 or not mine:
                title = f"w{w} create {n} {self.tag}"
                key = f"replicas-w{w}-n{n}-{self.tag}"
                # Retried with the same key, on either server, until acknowledged.
                while True:
                    status, _, payload = self.send("POST", f"/collections/{LAYER}/items",
                                                   incident(title, 62 + w * 0.5, 31 + (n % 40) * 0.1),
                                                   {"Idempotency-Key": key})
                    if status == 201:
                        fid = json.loads(payload)["id"]
                        with self.lock:
                            self.allowed[fid] = {title}
                            self.created_titles.add(title)
                            self.acked += 1
                        mine.append(fid)
                        break
                    time.sleep(0.05)
                continue
            fid = rng.choice(mine)
            path = f"/collections/{LAYER}/items/{fid}"
            if action < 0.85:
                title = f"w{w} replace {n} {self.tag}"
                status, server, answer = self.send("PUT", path, incident(title))
            else:
                title = None
                status, server, answer = self.send("DELETE", path)
            with self.lock:
                if status in (200, 204):
                    self.allowed[fid] = {title}
                    self.acked += 1
                elif status is None or status >= 500:
                    self.allowed[fid] = self.allowed[fid] | {title}
            if status in (200, 204) and title is None:
                mine.remove(fid)
            elif status == 404:
                mine.remove(fid)  # deleted by a delete whose answer was lost
                with self.lock:
                    assert None in self.allowed[fid], f"feature {fid} vanished on {server}: {answer!r}"
            time.sleep(0.01)

    def start(self):
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=120)
            assert not t.is_alive(), "a writer did not finish"

    def verify(self, server):
        features = layer_features(server.port)
        titles = {}
        for fid, f in features.items():
            t = f["properties"].get("title", "")
            if t.startswith("w") and " create " in t:
                titles[t] = titles.get(t, 0) + 1
        dups = {t: c for t, c in titles.items() if c > 1}
        assert not dups, f"duplicated creates on {server.name}: {dups}"
        lost = []
        with self.lock:
            for fid, allowed in self.allowed.items():
                got = features.get(fid)
                title = got["properties"].get("title") if got else None
                if title not in allowed:
                    lost.append((fid, title, allowed))
        assert not lost, f"acknowledged writes lost on {server.name}: {lost[:10]}"
        return len(features)


def layer_features(port):
    page = get_json(port, f"/collections/{LAYER}/items?limit=10000")
    return {f["id"]: f for f in page["features"]}


def wait_converged(a, b, timeout=30):
    """Waits until both servers applied the whole log; returns the position."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        ha, hb = get_json(a.port, "/health")["store"], get_json(b.port, "/health")["store"]
        if ha["applied_seq"] == hb["applied_seq"] and "behind" not in ha and "behind" not in hb:
            time.sleep(0.3)
            ha2 = get_json(a.port, "/health")["store"]
            if ha2["applied_seq"] == ha["applied_seq"]:
                return ha["applied_seq"]
        time.sleep(0.1)
    raise AssertionError(f"the servers did not converge: {ha} {hb}")


def compare_replicas(a, b):
    """Every layer of A equals B's, feature by feature (links aside)."""
    collections = [c["id"] for c in get_json(a.port, "/collections")["collections"]]
    total = 0
    for layer in collections:
        fa = get_json(a.port, f"/collections/{layer}/items?limit=10000")["features"]
        fb = get_json(b.port, f"/collections/{layer}/items?limit=10000")["features"]
        strip = lambda fs: [{k: f.get(k) for k in ("type", "id", "geometry", "properties")} for f in fs]
        sa, sb = strip(fa), strip(fb)
        assert len(sa) == len(sb), f"{layer}: {len(sa)} features on A, {len(sb)} on B"
        for x, y in zip(sa, sb):
            assert x == y, f"{layer}: feature {x['id']} differs between A and B:\n{x}\n{y}"
        total += len(sa)
    return total


def check_crash(a, b, cycles=3):
    writers = Writers([a, b], 4)
    writers.start()
    for _ in range(cycles):
        time.sleep(random.uniform(0.5, 1.5))
        a.kill()
        time.sleep(random.uniform(0.1, 0.5))
        a.start()
    time.sleep(1)
    writers.finish()
    wait_converged(a, b)
    writers.verify(a)
    writers.verify(b)
    compare_replicas(a, b)
    print(f"crash: {cycles} SIGKILLs of A during 4 writers on A and B: {writers.acked} "
          f"acknowledged writes, lost 0, duplicates 0; answers {writers.status_counts}")


def pg(action):
    subprocess.run(["bash", "-c", f"source tests/support/pg_cluster.sh && {action}_pg_cluster"],
                   cwd=ROOT, check=True)


def check_outage(a, b):
    writers = Writers([a, b], 4)
    writers.start()
    time.sleep(1.5)
    pg("pause")
    down_at = time.time()
    reads_ok = 0
    before = dict(writers.status_counts)
    while time.time() - down_at < 3:
        if request(b.port, "GET", f"/collections/{LAYER}/items?limit=1")[0] == 200:
            reads_ok += 1
        time.sleep(0.1)
    during = {k: v - before.get(k, 0) for k, v in writers.status_counts.items()}
    status, _, body = request(a.port, "POST", f"/collections/{LAYER}/items", incident("while down"))
    assert status == 503, f"a write while PostgreSQL is down: {status}"
    assert json.loads(body).get("status") == 503, body
    pg("resume")
    up_at = time.time()
    acked_before = writers.acked
    while writers.acked < acked_before + 20 and time.time() - up_at < 30:
        time.sleep(0.1)
    assert writers.acked >= acked_before + 20, "writes did not resume after PostgreSQL returned"
    resumed = time.time() - up_at
    writers.finish()
    wait_converged(a, b)
    writers.verify(a)
    writers.verify(b)
    total = compare_replicas(a, b)
    print(f"outage: PostgreSQL down 3 s during 4 writers: answers while down {during}, "
          f"{reads_ok} reads answered meanwhile; writes resumed within {resumed:.1f} s; "
          f"{writers.acked} acknowledged writes, lost 0; A and B identical ({total} features)")


def bench(a, b, n):
    events = Events(b.port)
    time.sleep(0.2)
    acks, items, evs = [], [], []
    for i in range(n):
        _, ack, delays = one_visible_write(a, b, events, i)
        acks.append(ack)
        items.append(delays["items"])
        evs.append(delays["event"])

    def pct(xs, p):
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] * 1000

    for name, xs in (("write on A acknowledged", acks), ("items on B", items), ("SSE event on B", evs)):
        print(f"{name}: p50 {pct(xs, 50):.1f} ms  p99 {pct(xs, 99):.1f} ms  max {max(xs) * 1000:.1f} ms"
              f"  (mean {statistics.mean(xs) * 1000:.1f} ms, n={len(xs)})")


def main():
    a = Server("A", int(os.environ["PORT_A"]))
    b = Server("B", int(os.environ["PORT_B"]))
    try:
        a.start()
        b.start()
        if sys.argv[1] == "bench":
            bench(a, b, int(sys.argv[2]))
            return
        started = time.time()
        check_visible(a, b)
        check_preconditions(a, b)
        check_crash(a, b)
        check_outage(a, b)
        print(f"replicas: ok ({time.time() - started:.0f} s)")
    finally:
        a.stop()
        b.stop()


if __name__ == "__main__":
    main()
