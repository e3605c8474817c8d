#!/usr/bin/env python3
"""scripts/bench's helpers: terminal-output timestamper, exec gate, a minimal VT to replay the
captured output, nginx/BIND log analysis, PostgreSQL and DNS pollers. Times: epoch ms (float).

Python 3 standard library only. scripts/bench runs it as `python3 bench_helper.py SUBCOMMAND
ARGS...` (a dash or an underscore in SUBCOMMAND is the same). PREFIX is a captured terminal:
PREFIX.raw holds the bytes a program wrote, PREFIX.idx one "epoch_ms end_offset" line per read;
ROWS and COLS are the size of its screen, replayed by the VT below.

Capture (run inside the tmux panes):
  ts PREFIX                          stdin -> PREFIX.raw and PREFIX.idx (tmux pipe-pane -O)
  gate FIFO T0FILE PROGRAM ARGS...   wait until FIFO is opened, write the time to T0FILE, exec

Figures (each prints one JSON document):
  latency-http PREFIX ROWS COLS TIMING_LOG OFFSET EVENTS NAME URI
                                     per "T0 down|up" line of EVENTS: nginx's first 503/200 for
                                     URI after T0, and the first frame whose row of check NAME
                                     shows the change
  latency-dns PREFIX ROWS COLS QUERY_LOG OFFSET EVENTS NAME RESOLVER
                                     per "T_START T_DONE IP" line of EVENTS: the BIND query for
                                     NAME that saw IP, and the first frame showing RESOLVER IP
  http-probes TIMING_LOG OFFSET T0 T1 N TAG
                                     nginx's probes of /ep/b1..bN/healthz?bench=TAG in [T0, T1):
                                     missed and late ticks, gaps, statuses, peak per 10 ms
  dns-probes QUERY_LOG OFFSET T0 T1 N NAME_FORMAT
                                     BIND's queries for NAME_FORMAT % 1..N in [T0, T1): the same,
                                     without statuses
  startup PREFIX T0FILE NEEDLE ROWS COLS
                                     ms from T0 to the first byte and to the first frame with NEEDLE
  idle-frames PREFIX ROWS COLS OUTFILE [T0 [T1]]
                                     the frames in [T0, T1): which rows they change; counts as
                                     JSON, examples and the last screen in OUTFILE

Failover (the pollers ask every 10 ms for DEADLINE_S seconds, print the epoch ms of the first
answer that shows the change, or "timeout", and write "ready ..." to READYFILE after the first
answer):
  pgpoll PORT DEADLINE_S READYFILE   the PostgreSQL at PORT is writable (pg_is_in_recovery() = f)
  dnspoll PORT NAME WANT DEADLINE_S READYFILE
                                     the DNS server at PORT answers exactly WANT for NAME's A
  pgpromote PORT                     the raw promote: on an open psql session, print the epoch ms
                                     just before sending pg_promote(true, 60)

Small tools:
  bytes-between PREFIX T0 T1         bytes written in [T0, T1)
  screen-has PREFIX ROWS COLS NEEDLE "yes" if the last screen shows NEEDLE, else "no" (scripts/bench
                                     does not call it; kept for looking at a capture by hand)
  stats VALUE...                     "median max min" (one decimal) of the numbers, "- -" if none
  json FILE|- KEY...                 one line per KEY: its value in a JSON object, or, in a list,
                                     every item's value, space separated
  journal-steps JOURNAL              the step events of a run's journal, one a line:
                                     "EVENT STEP AT_EPOCH_MS ELAPSED_MS RESULT"
  table RESULTS                      results.tsv (figure, value, reference, ratio, budget, verdict)
                                     as the Markdown table of table.md
"""
import codecs, json, os, re, socket, statistics, struct, subprocess, sys, time, unicodedata

def now_ms():
    return time.time() * 1000.0

# --- capture ---------------------------------------------------------------------------------
def cmd_ts(prefix):
    """stdin -> PREFIX.raw (bytes) and PREFIX.idx ("epoch_ms end_offset" per read)."""
    raw = open(prefix + ".raw", "ab", buffering=0)
    idx = open(prefix + ".idx", "a", buffering=1)
    off = os.fstat(raw.fileno()).st_size
    while True:
        b = os.read(0, 1 << 16)
        if not b:
            break
        t = now_ms()
        raw.write(b)
        off += len(b)
        idx.write("%.3f %d\n" % (t, off))

def cmd_gate(fifo, t0file, *argv):
    """Block until the bench opens FIFO (after pipe-pane is attached), record the time, exec."""
    with open(fifo, "rb") as f:
        f.read(1)
    t = now_ms()
    with open(t0file, "w") as f:
        f.write("%.3f\n" % t)
    os.execvp(argv[0], list(argv))

def load_chunks(prefix):
    """[(epoch_ms, bytes)]: what PREFIX.raw received in each read that PREFIX.idx timed."""
    data = open(prefix + ".raw", "rb").read() if os.path.exists(prefix + ".raw") else b""
    chunks, prev = [], 0
    if os.path.exists(prefix + ".idx"):
        for line in open(prefix + ".idx"):
            p = line.split()
            if len(p) != 2:
                continue
            end = int(p[1])
            chunks.append((float(p[0]), data[prev:end]))
            prev = end
    return chunks

# --- a minimal VT (what crossterm/ratatui and tmux's pipe-pane give us) ----------------------
class VT:
    def __init__(self, rows, cols):
        self.rows, self.cols = rows, cols
        self.g = [[" "] * cols for _ in range(rows)]
        self.y = self.x = 0
        self.pending = ""
        self.dec = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def erase(self, y, x0, x1):
        if 0 <= y < self.rows:
            for x in range(max(0, x0), min(self.cols, x1)):
                self.g[y][x] = " "

    def csi(self, params, final):
        priv = params.startswith("?")
        ps = [int(p) if p.isdigit() else 0 for p in params.lstrip("?>=").split(";")] if params else []
        a = ps[0] if ps else 0
        if priv:
            return
        if final in "Hf":
            r = ps[0] if len(ps) > 0 and ps[0] else 1
            c = ps[1] if len(ps) > 1 and ps[1] else 1
            self.y, self.x = min(r - 1, self.rows - 1), min(c - 1, self.cols - 1)
        elif final == "J":
            if a == 0:
                self.erase(self.y, self.x, self.cols)
                for y in range(self.y + 1, self.rows):
                    self.erase(y, 0, self.cols)
            elif a == 1:
                for y in range(0, self.y):
                    self.erase(y, 0, self.cols)
                self.erase(self.y, 0, self.x + 1)
            else:
                for y in range(self.rows):
                    self.erase(y, 0, self.cols)
        elif final == "K":
            if a == 0:
                self.erase(self.y, self.x, self.cols)
            elif a == 1:
                self.erase(self.y, 0, self.x + 1)
            else:
                self.erase(self.y, 0, self.cols)
        elif final == "X":
            self.erase(self.y, self.x, self.x + max(1, a))
        elif final == "A":
            self.y = max(0, self.y - max(1, a))
        elif final in "Be":
            self.y = min(self.rows - 1, self.y + max(1, a))
        elif final in "Ca":
            self.x = min(self.cols - 1, self.x + max(1, a))
        elif final == "D":
            self.x = max(0, self.x - max(1, a))
        elif final in "G`":
            self.x = min(self.cols - 1, max(1, a) - 1)
        elif final == "d":
            self.y = min(self.rows - 1, max(1, a) - 1)
        elif final == "b" and self.x > 0:  # REP: repeat the previous character
            ch = self.g[self.y][self.x - 1]
            for _ in range(max(1, a)):
                self.put(ch)

    def put(self, ch):
        w = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if unicodedata.combining(ch):
            return
        if self.x >= self.cols:
            return
        if 0 <= self.y < self.rows:
            self.g[self.y][self.x] = ch
            if w == 2 and self.x + 1 < self.cols:
                self.g[self.y][self.x + 1] = ""
        self.x += w

    def feed(self, b):
        s = self.pending + self.dec.decode(b)
        i, n = 0, len(s)
        while i < n:
            ch = s[i]
            if ch == "\x1b":
                if i + 1 >= n:
                    break
                nx = s[i + 1]
                if nx == "[":
                    j = i + 2
                    while j < n and not ("\x40" <= s[j] <= "\x7e"):
                        j += 1
                    if j >= n:
                        break
                    self.csi(s[i + 2:j], s[j])
                    i = j + 1
                    continue
                if nx in "]PX^_":  # OSC/DCS/...: up to BEL or ST
                    j = i + 2
                    while j < n and s[j] != "\x07" and not (s[j] == "\x1b" and j + 1 < n and s[j + 1] == "\\"):
                        j += 1
                    if j >= n:
                        break
                    i = j + (1 if s[j] == "\x07" else 2)
                    continue
                if nx in "()*+#%":
                    if i + 2 >= n:
                        break
                    i += 3
                    continue
                i += 2
                continue
            if ch == "\r":
                self.x = 0
            elif ch == "\n":
                self.y = min(self.rows - 1, self.y + 1)
            elif ch == "\b":
                self.x = max(0, self.x - 1)
            elif ch == "\t":
                self.x = min(self.cols - 1, (self.x // 8 + 1) * 8)
            elif ord(ch) >= 32 and ch != "\x7f":
                self.put(ch)
            i += 1
        self.pending = s[i:]

    def lines(self):
        return ["".join(r) for r in self.g]

def replay(prefix, rows, cols):
    """[(t, lines)] after each captured chunk."""
    vt = VT(rows, cols)
    out = []
    for t, b in load_chunks(prefix):
        vt.feed(b)
        out.append((t, vt.lines()))
    return out

# --- nginx timing log: "$msec $status $request_uri $connection" ---------------------------------
def read_timing(path, offset):
    """(epoch_ms, status, uri) of each line of nginx's timing log from byte OFFSET on."""
    with open(path, "rb") as f:
        f.seek(int(offset))
        for line in f:
            p = line.split()
            if len(p) >= 3:
                try:
                    yield float(p[0]) * 1000.0, p[1].decode(), p[2].decode()
                except ValueError:
                    pass

def first_status(path, offset, uri, status, after):
    """epoch ms of the first response STATUS that nginx served for URI at or after AFTER."""
    for t, st, u in read_timing(path, offset):
        if u == uri and st == status and t >= after:
            return t
    return None

def cmd_latency_http(prefix, rows, cols, timing, offset, events, name, uri):
    """events: lines "T0 down|up". Latency: first screen state showing the change (the row of
    check NAME) minus the first response (503 for down, 200 for up) nginx served for URI after T0."""
    frames = replay(prefix, int(rows), int(cols))
    row = re.compile(r"^\S+\s+%s\s+" % re.escape(name))
    res = []
    for line in open(events):
        t0, kind = line.split()[:2]
        t0 = float(t0)
        cause = first_status(timing, offset, uri, "503" if kind == "down" else "200", t0)
        if cause is None:
            res.append({"kind": kind, "error": "no response from nginx after T0"})
            continue
        seen = None
        for t, lines in frames:
            if t < cause:
                continue
            rl = [l for l in lines if row.search(l)]
            if kind == "down" and any("UNHEALTHY" in l for l in rl):
                seen = t
                break
            if kind == "up" and any(" healthy" in l and "UNHEALTHY" not in l for l in rl):
                seen = t
                break
        if seen is None:
            res.append({"kind": kind, "error": "change never seen on screen", "cause": cause})
            continue
        res.append({"kind": kind, "t0": t0, "response": cause, "screen": seen,
                    "flip_to_response_ms": round(cause - t0, 1), "latency_ms": round(seen - cause, 1)})
    print(json.dumps(res))

# --- BIND query log (print-time iso8601-utc) --------------------------------------------------
QRE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z .* query: (\S+) IN (\S+)")

def read_querylog(path, offset):
    """(epoch_ms, name, type) of each query in BIND's query log from byte OFFSET on."""
    import calendar
    with open(path, "rb") as f:
        f.seek(int(offset))
        for line in f:
            m = QRE.match(line.decode("utf-8", "replace"))
            if not m:
                continue
            ts = m.group(1)
            sec = calendar.timegm(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S"))
            yield sec * 1000.0 + int(ts[20:23]), m.group(2).lower().rstrip("."), m.group(3)

def cmd_latency_dns(prefix, rows, cols, qlog, offset, events, name, resolver):
    """events: lines "T_start T_done IP". The query that saw the new answer: the first query for
    NAME received after the update returned (or, if the screen changed before it, the last one
    received before the screen changed). Latency: screen minus that query's receipt."""
    frames = replay(prefix, int(rows), int(cols))
    queries = [t for t, n, _ in read_querylog(qlog, offset) if n == name.lower().rstrip(".")]
    res = []
    for line in open(events):
        ts, td, ip = line.split()[:3]
        ts, td = float(ts), float(td)
        seen = None
        # the resolver's row of the DNS pane ("@127.0.0.1:PORT IP → site"), not the timeline's
        # "@127.0.0.1:PORT: OLD → NEW"
        rx = re.compile(re.escape(resolver) + r"\s+" + re.escape(ip) + r"(\s|$)")
        for t, lines in frames:
            if t < ts:
                continue
            if any(rx.search(l) for l in lines):
                seen = t
                break
        if seen is None:
            res.append({"ip": ip, "error": "change never seen on screen"})
            continue
        after = [q for q in queries if q >= td]
        q = after[0] if after else None
        if q is None or q > seen:
            before = [x for x in queries if ts <= x <= seen]
            q = before[-1] if before else None
        if q is None:
            res.append({"ip": ip, "error": "no query in the log", "screen": seen})
            continue
        res.append({"ip": ip, "update_ms": round(td - ts, 1), "query": q, "screen": seen,
                    "update_to_screen_ms": round(seen - td, 1), "latency_ms": round(seen - q, 1)})
    print(json.dumps(res))

# --- probes in a window: missed ticks from the gaps -------------------------------------------
def tick_stats(times_by_key, keys, t0, t1, interval_ms):
    """Probes of each key that should come every INTERVAL_MS in [T0, T1): missed ticks, gaps."""
    missed = never = count = 0
    gaps = []
    for k in keys:
        ts = sorted(times_by_key.get(k, []))
        if not ts:
            never += 1
            missed += int(round((t1 - t0) / interval_ms))
            continue
        count += len(ts)
        edges = [ts[0] - t0, t1 - ts[-1]]
        inner = [b - a for a, b in zip(ts, ts[1:])]
        gaps.extend(inner)
        for g in inner + edges:
            # a gap of 1.5 intervals or more is one missed tick, 2.5 two, ...
            missed += max(0, int(g / interval_ms - 0.5))
    late = sum(1 for g in gaps if g > 1.1 * interval_ms)
    gaps.sort()
    gap_quantile = lambda p: round(gaps[min(len(gaps) - 1, int(p * len(gaps)))], 1) if gaps else None
    return {"keys": len(keys), "probes": count, "expected": int(len(keys) * (t1 - t0) / interval_ms),
            "missed": missed, "late_over_1.1": late, "never_probed": never, "gap_min_ms": gap_quantile(0.0),
            "gap_p01_ms": gap_quantile(0.01), "gap_p50_ms": gap_quantile(0.5), "gap_p99_ms": gap_quantile(0.99),
            "gap_max_ms": round(gaps[-1], 1) if gaps else None}

def peak_per(times, t0, t1, bucket_ms):
    """The most TIMES in one BUCKET_MS bucket counted from T0."""
    if not times:
        return 0
    counts = {}
    for t in times:
        counts[int((t - t0) // bucket_ms)] = counts.get(int((t - t0) // bucket_ms), 0) + 1
    return max(counts.values())

def cmd_http_probes(timing, offset, t0, t1, n, tag):
    t0, t1, n = float(t0), float(t1), int(n)
    rx = re.compile(r"^/ep/b(\d+)/healthz\?bench=%s$" % re.escape(tag))
    by, allt, statuses = {}, [], {}
    for t, st, u in read_timing(timing, offset):
        if t < t0 or t >= t1:
            continue
        m = rx.match(u)
        if not m or int(m.group(1)) > n:
            continue
        by.setdefault(int(m.group(1)), []).append(t)
        allt.append(t)
        statuses[st] = statuses.get(st, 0) + 1
    r = tick_stats(by, range(1, n + 1), t0, t1, 1000.0)
    r["statuses"] = statuses
    r["peak_per_10ms"] = peak_per(allt, t0, t1, 10)
    r["mean_per_10ms"] = round(len(allt) / ((t1 - t0) / 10), 1)
    print(json.dumps(r))

def cmd_dns_probes(qlog, offset, t0, t1, n, fmt):
    t0, t1, n = float(t0), float(t1), int(n)
    by, allt = {}, []
    for t, name, _ in read_querylog(qlog, offset):
        if t0 <= t < t1:
            by.setdefault(name, []).append(t)
            allt.append(t)
    keys = [fmt % i for i in range(1, n + 1)]
    r = tick_stats(by, keys, t0, t1, 1000.0)
    r["peak_per_10ms"] = peak_per(allt, t0, t1, 10)
    print(json.dumps(r))

# --- pollers ---------------------------------------------------------------------------------
def cmd_pgpoll(port, deadline_s, readyfile):
    """A persistent psql session asking pg_is_in_recovery() every 10 ms; prints the epoch ms of
    the first 'f' (the node is writable) or 'timeout'."""
    p = subprocess.Popen(["psql", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", "postgres",
                          "-At", "-v", "ON_ERROR_STOP=0"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
    end = time.time() + float(deadline_s)
    first = True
    try:
        while time.time() < end:
            p.stdin.write("select pg_is_in_recovery();\n")
            p.stdin.flush()
            line = p.stdout.readline().strip()
            t = now_ms()
            if first:
                open(readyfile, "w").write("ready %s\n" % line)
                first = False
            if line == "f":
                print("%.3f" % t)
                return
            time.sleep(0.01)
        print("timeout")
    finally:
        try:
            p.stdin.close()
        except Exception:
            pass
        p.wait(timeout=5)

def cmd_pgpromote(port):
    """On an open psql session: print the epoch ms just before sending pg_promote(true, 60)."""
    p = subprocess.Popen(["psql", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", "postgres",
                          "-At"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True, bufsize=1)
    p.stdin.write("select 1;\n")
    p.stdin.flush()
    if p.stdout.readline().strip() != "1":
        print("no session")
        return
    t = now_ms()
    p.stdin.write("select pg_promote(true, 60);\n")
    p.stdin.flush()
    r = p.stdout.readline().strip()
    p.stdin.close()
    p.wait(timeout=10)
    print("%.3f" % t if r == "t" else "pg_promote returned %r" % r)

def dns_query(sock, addr, name, qid):
    """One UDP A query for NAME to ADDR: the sorted IPs of the answer (None if the id differs)."""
    q = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00" + struct.pack(">HH", 1, 1)
    sock.sendto(q, addr)
    data, _ = sock.recvfrom(4096)
    rid, flags, qd, an = struct.unpack(">HHHH", data[:8])
    if rid != qid:
        return None
    i = 12
    for _ in range(qd):
        while data[i] != 0:
            if data[i] & 0xC0 == 0xC0:
                i += 1
                break
            i += data[i] + 1
        i += 5
    ips = []
    for _ in range(an):
        if data[i] & 0xC0 == 0xC0:
            i += 2
        else:
            while data[i] != 0:
                i += data[i] + 1
            i += 1
        typ, cls, ttl, rdlen = struct.unpack(">HHIH", data[i:i + 10])
        i += 10
        if typ == 1 and rdlen == 4:
            ips.append(".".join(str(x) for x in data[i:i + 4]))
        i += rdlen
    return sorted(ips)

def cmd_dnspoll(port, name, want, deadline_s, readyfile):
    """UDP A query every 10 ms; prints the epoch ms when the answer is exactly WANT."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    end = time.time() + float(deadline_s)
    qid, first = 1, True
    while time.time() < end:
        qid = (qid + 1) & 0xFFFF
        try:
            ips = dns_query(s, ("127.0.0.1", int(port)), name, qid)
        except socket.timeout:
            ips = None
        t = now_ms()
        if first:
            open(readyfile, "w").write("ready %s\n" % ips)
            first = False
        if ips == [want]:
            print("%.3f" % t)
            return
        time.sleep(0.01)
    print("timeout")

# --- start-up ----------------------------------------------------------------------------------
def cmd_startup(prefix, t0file, needle, rows, cols):
    t0 = float(open(t0file).read().split()[0])
    chunks = load_chunks(prefix)
    if not chunks:
        print(json.dumps({"error": "no output"}))
        return
    first_byte = chunks[0][0] - t0
    data, frame = b"", None
    nb = needle.encode()
    for t, b in chunks:
        data += b
        if nb in data:
            frame = t - t0
            break
    if frame is None:  # not written contiguously: replay the screen
        for t, lines in replay(prefix, int(rows), int(cols)):
            if any(needle in l for l in lines):
                frame = t - t0
                break
    print(json.dumps({"first_byte_ms": round(first_byte, 1),
                      "first_frame_ms": round(frame, 1) if frame is not None else None}))

# --- idle: which rows change between consecutive frames ----------------------------------------
def cmd_idle_frames(prefix, rows, cols, outfile, t0=0, t1=1e20):
    """Replays the whole capture; reports the frames inside [T0, T1): which rows they change,
    how many change nothing visible, a few examples of each kind."""
    t0, t1 = float(t0), float(t1)
    chunks = load_chunks(prefix)
    # frames: chunks closer than 20 ms together are one frame
    frames, cur = [], None
    for t, b in chunks:
        if cur and t - cur[0] < 20:
            cur[1] += b
        else:
            cur = [t, b]
            frames.append(cur)
    vt = VT(int(rows), int(cols))
    prev = None
    changed_rows = {}
    kinds = {"nothing visible": [], "header clock only": [], "other": []}
    sizes, first = [], None

    def changed_span(a, b):
        """Where row A and row B differ, with a few columns of context on either side."""
        i = 0
        while i < len(a) and i < len(b) and a[i] == b[i]:
            i += 1
        j = 0
        while j < len(a) - i and j < len(b) - i and a[-1 - j] == b[-1 - j]:
            j += 1
        lo = max(0, i - 12)
        return "cols %d-%d: %r -> %r" % (i, len(b) - j, a[lo:len(a) - j + 6].strip(), b[lo:len(b) - j + 6].strip())

    for t, b in frames:
        vt.feed(b)
        lines = vt.lines()
        if t < t0 or t >= t1:
            if t < t0:
                prev = lines
            continue
        if first is None:
            first = t
        sizes.append(len(b))
        if prev is not None:
            diff = [y for y in range(len(lines)) if lines[y] != prev[y]]
            for y in diff:
                changed_rows[y] = changed_rows.get(y, 0) + 1
            kind = "nothing visible" if not diff else ("header clock only" if diff == [0] else "other")
            ex = kinds[kind]
            ex.append(len(b))
            if len(ex) <= 4:
                desc = ["  at +%.0f ms, %d bytes%s" % (t - first, len(b), "" if diff else ": %r" % b[:80])]
                for y in diff[:6]:
                    desc.append("    row %2d %s" % (y, changed_span(prev[y], lines[y])))
                ex[-1] = (len(b), desc)
        prev = lines
    with open(outfile, "w") as f:
        f.write("%d frames in the window, %d bytes; bytes per frame: median %s, max %s\n" % (
            len(sizes), sum(sizes), statistics.median(sizes) if sizes else 0, max(sizes) if sizes else 0))
        for k, ex in kinds.items():
            nbytes = sum(e if isinstance(e, int) else e[0] for e in ex)
            f.write("\n%s: %d frames, %d bytes\n" % (k, len(ex), nbytes))
            for e in ex:
                if not isinstance(e, int):
                    f.write("\n".join(e[1]) + "\n")
        f.write("\nrows by number of frames that changed them: %s\n" % sorted(
            changed_rows.items(), key=lambda kv: -kv[1]))
        if prev:
            f.write("\nlast screen:\n" + "\n".join(l.rstrip() for l in prev) + "\n")
    print(json.dumps({"frames": len(sizes), "bytes": sum(sizes),
                      "kinds": {k: len(v) for k, v in kinds.items()}}))

def cmd_bytes_between(prefix, t0, t1):
    """Bytes the program wrote between T0 and T1 (reads that tmux handed over in the window)."""
    t0, t1 = float(t0), float(t1)
    print(sum(len(b) for t, b in load_chunks(prefix) if t0 <= t < t1))

def cmd_screen_has(prefix, rows, cols, needle):
    fr = replay(prefix, int(rows), int(cols))
    print("yes" if fr and any(needle in l for l in fr[-1][1]) else "no")

def cmd_stats(*vals):
    v = []
    for x in vals:
        try:
            v.append(float(x))
        except ValueError:
            pass
    v.sort()
    if not v:
        print("- -")
        return
    print("%.1f %.1f %.1f" % (statistics.median(v), v[-1], v[0]))

def cmd_json(path_or_dash, *keys):
    """Print fields of a JSON document (or a list's field per item, space separated)."""
    d = json.load(sys.stdin if path_or_dash == "-" else open(path_or_dash))
    for k in keys:
        if isinstance(d, list):
            print(" ".join(str(x.get(k)) for x in d if isinstance(x, dict) and k in x))
        else:
            print(d.get(k))

# --- failover: the step events of a run's journal ---------------------------------------------
def cmd_journal_steps(journal):
    """One line per step event of a journal: "EVENT STEP AT_EPOCH_MS ELAPSED_MS RESULT"."""
    import datetime
    for line in open(journal):
        try:
            e = json.loads(line)
        except ValueError:
            continue
        r = e.get("run") or {}
        ev = r.get("event")
        if ev in ("step-started", "step-finished", "gate-passed", "step-refused", "split-brain-accepted"):
            at = datetime.datetime.fromisoformat(e["at"].replace("Z", "+00:00")).timestamp() * 1000
            print("%s %s %.3f %s %s" % (ev, r.get("step"), at, r.get("elapsed_ms", "-"), r.get("result", "-")))

# --- the table ---------------------------------------------------------------------------------
def cmd_table(results):
    """RESULTS (tab-separated: figure, value, reference, ratio, budget, verdict) as a Markdown
    table, every column padded to its widest cell."""
    rows = [l.rstrip("\n").split("\t") for l in open(results) if l.strip()]
    head = ["figure", "value", "reference (same run)", "ratio", "budget", ""]
    rows = [head] + rows
    w = [max(len(r[i]) for r in rows) for i in range(6)]
    for k, r in enumerate(rows):
        print("| " + " | ".join(r[i].ljust(w[i]) for i in range(6)) + " |")
        if k == 0:
            print("|" + "|".join("-" * (w[i] + 2) for i in range(6)) + "|")

if __name__ == "__main__":
    cmd = sys.argv[1].replace("-", "_")
    globals()["cmd_" + cmd](*sys.argv[2:])
