#!/usr/bin/env python3
"""Helper of bench/ingest-vs-phoenix.sh: the same OTLP/HTTP protobuf bodies into muster and Phoenix.

Runs in the Phoenix venv (it needs `opentelemetry-proto`/`protobuf`, which `arize-phoenix` brings).
Subcommands:

  convert IN.jsonl OUT.bin
      Each OTLP/JSON ExportTraceServiceRequest line -> protobuf (json_format.Parse), written as
      4-byte big-endian length + body. Done once, before any timing; both tools get these bytes.
  serve-phoenix
      Phoenix's own `phoenix serve` (phoenix.server.main), except that its OTLP gRPC receiver,
      which Phoenix always binds to [::], is bound to 127.0.0.1 (PHOENIX_HOST only moves HTTP).
  round --tool muster-listen|phoenix|muster-file ...
      One measurement in a fresh store / working dir: start the server as its own process, wait
      until it is ready, POST every body to /v1/traces (C client threads, one keep-alive
      connection each), wait until every span is stored, read peak RSS and CPU from /proc, stop
      it, check the count. Prints one JSON object.
  report ROUNDS.jsonl OUT.json META.json
      The table on stdout and the JSON file.
"""
import argparse
import base64
import datetime
import http.client
import json
import os
import signal
import socket
import sqlite3
import statistics
import struct
import subprocess
import sys
import threading
import time
import urllib.request

LOOPBACK = "127.0.0.1"
POLL_S = 0.05          # readiness poll interval
STORE_POLL_S = 0.1     # Phoenix: how often the spans table is counted after the last answer
RETRY_S = 0.1          # wait before re-sending a body refused with 503/429
READY_TIMEOUT_S = 180
STORE_TIMEOUT_S = 900


# --- bodies ------------------------------------------------------------------------------------------

ID_KEYS = ("traceId", "spanId", "parentSpanId")


def hex_ids_to_base64(node):
    """OTLP/JSON writes trace and span ids as hex; protobuf's JSON mapping reads bytes as base64."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ID_KEYS and isinstance(v, str):
                node[k] = base64.b64encode(bytes.fromhex(v)).decode()
            else:
                hex_ids_to_base64(v)
    elif isinstance(node, list):
        for v in node:
            hex_ids_to_base64(v)
    return node


def cmd_convert(args):
    from google.protobuf import json_format
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    bodies = spans = size = 0
    with open(args.input) as src, open(args.output, "wb") as out:
        for line in src:
            if not line.strip():
                continue
            req = json_format.ParseDict(hex_ids_to_base64(json.loads(line)), ExportTraceServiceRequest())
            spans += sum(len(ss.spans) for rs in req.resource_spans for ss in rs.scope_spans)
            body = req.SerializeToString()
            out.write(struct.pack(">I", len(body)))
            out.write(body)
            bodies += 1
            size += len(body)
    print(json.dumps({"bodies": bodies, "spans": spans, "bytes": size}))


def read_bodies(path):
    out = []
    with open(path, "rb") as f:
        while head := f.read(4):
            (n,) = struct.unpack(">I", head)
            out.append(f.read(n))
    return out


# --- Phoenix launcher ------------------------------------------------------------------------------

def cmd_serve_phoenix(_args):
    import grpc.aio
    real_server = grpc.aio.server

    def loopback_server(*a, **kw):
        server = real_server(*a, **kw)
        add = server.add_insecure_port
        server.add_insecure_port = lambda address: add(address.replace("[::]", LOOPBACK))
        return server

    grpc.aio.server = loopback_server
    from phoenix.server.main import main
    sys.argv = ["phoenix", "serve"]
    sys.exit(main())


# --- processes -------------------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def descendants(pid):
    """pid and every process below it."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def proc_usage(pid):
    """(peak RSS MB summed over the process tree, main process peak RSS MB, CPU s of the tree)."""
    tick = os.sysconf("SC_CLK_TCK")
    total_kb = main_kb = 0
    cpu = 0.0
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                hwm = next((int(l.split()[1]) for l in f if l.startswith("VmHWM:")), 0)
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            # utime, stime, cutime, cstime (fields 14-17): children already reaped count too
            cpu += sum(int(x) for x in fields[11:15]) / tick
        except (OSError, IndexError, ValueError):
            continue
        total_kb += hwm
        if p == pid:
            main_kb = hwm
    return round(total_kb / 1024, 1), round(main_kb / 1024, 1), round(cpu, 2)


class Server:
    """A server process in its own process group, its pid noted for the shell's trap."""

    def __init__(self, argv, env, log, pidfile):
        self.out_path = log + ".stdout"
        with open(log, "ab") as err, open(self.out_path, "wb") as out:
            self.proc = subprocess.Popen(argv, env=env, stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        with open(pidfile, "a") as f:
            f.write(f"{self.proc.pid}\n")

    def stop(self, sig=signal.SIGINT, timeout=60):
        """Signal the process group and wait for it; returns what it wrote on stdout."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            except ProcessLookupError:
                self.proc.wait()
        with open(self.out_path, "rb") as f:
            return f.read()

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()


def wait_until(check, what, proc, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what}: the server exited ({proc.returncode}) before it was ready")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(POLL_S)
    raise SystemExit(f"{what}: not ready after {timeout} s")


def tcp_open(port):
    with socket.create_connection((LOOPBACK, port), timeout=1):
        return True


def http_ok(port, path):
    with urllib.request.urlopen(f"http://{LOOPBACK}:{port}{path}", timeout=5) as r:
        return r.status == 200


# --- the client ------------------------------------------------------------------------------------

def post_all(port, bodies, concurrency):
    """POST every body to http://127.0.0.1:PORT/v1/traces. Returns counts and the answer time."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
    lock = threading.Lock()
    state = {"next": 0, "ok": 0, "retries": 0, "failed": 0, "rejected_spans": 0, "errors": []}

    def worker():
        conn = http.client.HTTPConnection(LOOPBACK, port, timeout=600)
        try:
            while True:
                with lock:
                    i = state["next"]
                    state["next"] += 1
                if i >= len(bodies):
                    return
                while True:
                    conn.request("POST", "/v1/traces", body=bodies[i],
                                 headers={"Content-Type": "application/x-protobuf"})
                    resp = conn.getresponse()
                    data = resp.read()
                    if resp.getheader("Connection", "").lower() == "close":
                        conn.close()
                        conn = http.client.HTTPConnection(LOOPBACK, port, timeout=600)
                    if resp.status in (429, 503):
                        with lock:
                            state["retries"] += 1
                        time.sleep(RETRY_S)
                        continue
                    with lock:
                        if resp.status == 200:
                            state["ok"] += 1
                            answer = ExportTraceServiceResponse()
                            try:
                                answer.ParseFromString(data)
                                state["rejected_spans"] += answer.partial_success.rejected_spans
                            except Exception:  # noqa: BLE001 - an odd answer is only noted
                                pass
                        else:
                            state["failed"] += 1
                            if len(state["errors"]) < 3:
                                state["errors"].append(f"{resp.status} {data[:200]!r}")
                    break
        finally:
            conn.close()

    start = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    state["answered_s"] = time.monotonic() - start
    del state["next"]
    return start, state


# --- rounds ----------------------------------------------------------------------------------------

def phoenix_count(db):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute("SELECT count(*) FROM spans").fetchone()[0]
    finally:
        con.close()


def phoenix_graphql_count(port):
    query = '{ projects { edges { node { name recordCount } } } }'
    req = urllib.request.Request(f"http://{LOOPBACK}:{port}/graphql", method="POST",
                                 data=json.dumps({"query": query}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        data = json.load(r)
    return {e["node"]["name"]: e["node"]["recordCount"] for e in data["data"]["projects"]["edges"]}


def du_mb(path):
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return round(total / 1e6, 1)


def round_phoenix(args, bodies):
    work = args.workdir
    os.makedirs(work, exist_ok=True)
    port, grpc_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PHOENIX_", "OTEL_"))}
    env.update({
        "PHOENIX_WORKING_DIR": work,          # SQLite database: WORK/phoenix.db (the default kind)
        "PHOENIX_HOST": LOOPBACK,
        "PHOENIX_PORT": str(port),
        "PHOENIX_GRPC_PORT": str(grpc_port),
        "PHOENIX_TELEMETRY_ENABLED": "false",
        "PHOENIX_ALLOW_EXTERNAL_RESOURCES": "false",
        "PHOENIX_DISABLE_AGENT_ASSISTANT": "true",
        "PHOENIX_ENABLE_PROMETHEUS": "false",
        "PHOENIX_ENABLE_AUTH": "false",
    })
    db = os.path.join(work, "phoenix.db")
    t0 = time.monotonic()
    server = Server([sys.executable, os.path.abspath(__file__), "serve-phoenix"], env,
                    os.path.join(work, "phoenix.log"), args.pidfile)
    try:
        wait_until(lambda: http_ok(port, "/readyz"), "phoenix", server.proc, READY_TIMEOUT_S)
        ready_s = time.monotonic() - t0
        cpu_ready = proc_usage(server.proc.pid)[2]
        before = phoenix_count(db)
        start, st = post_all(port, bodies, args.concurrency)
        # Phoenix answers before inserting (a background task decodes and queues the spans; a bulk
        # inserter commits them 100 per transaction): stored = the spans table holds them all.
        deadline = time.monotonic() + STORE_TIMEOUT_S
        count = phoenix_count(db) - before
        marks, progress = [p / 10 for p in range(1, 11)], {}
        while True:
            now = time.monotonic() - start
            while marks and count >= marks[0] * args.spans:
                progress[f"{round(marks.pop(0) * 100)}%"] = round(now, 2)
            if count >= args.spans or time.monotonic() > deadline or server.proc.poll() is not None:
                break
            time.sleep(STORE_POLL_S)
            count = phoenix_count(db) - before
        stored_s = time.monotonic() - start
        rss_total, rss_main, cpu = proc_usage(server.proc.pid)
        try:
            api = phoenix_graphql_count(port)
        except Exception as e:  # noqa: BLE001 - reported, not fatal
            api = {"error": str(e)}
        final = phoenix_count(db)
        nproc_tree = len(descendants(server.proc.pid))
        server.stop(signal.SIGINT, timeout=60)
    finally:
        server.kill()  # at once if the round was cut short (Ctrl-C, an error)
    size = du_mb(work)
    return {"tool": "phoenix", "concurrency": args.concurrency, "spans_sent": args.spans,
            "spans_stored": final - before, "events_stored": None, "ready_s": round(ready_s, 2),
            "answered_s": round(st["answered_s"], 3), "stored_s": round(stored_s, 3),
            "requests_ok": st["ok"], "requests_failed": st["failed"], "retries_503": st["retries"],
            "rejected_spans": st["rejected_spans"], "errors": st["errors"],
            "api_record_count": api, "stored_progress_s": progress, "peak_rss_mb": rss_total, "peak_rss_main_mb": rss_main,
            "processes": nproc_tree, "cpu_s": round(cpu - cpu_ready, 2), "cpu_startup_s": cpu_ready,
            "store_mb": size}


def round_muster_listen(args, bodies):
    work = args.workdir
    os.makedirs(work, exist_ok=True)
    port = free_port()
    store = os.path.join(work, "evidence.db")
    server = Server([args.muster_bin, "--store", store, "ingest", "--listen", f"{LOOPBACK}:{port}",
                     "--json"], dict(os.environ), os.path.join(work, "muster.log"), args.pidfile)
    try:
        t0 = time.monotonic()
        wait_until(lambda: tcp_open(port), "muster", server.proc, READY_TIMEOUT_S)
        ready_s = time.monotonic() - t0
        cpu_ready = proc_usage(server.proc.pid)[2]
        start, st = post_all(port, bodies, args.concurrency)
        # muster answers a request after its batch is committed (WAL, synchronous=NORMAL)
        stored_s = time.monotonic() - start
        rss_total, rss_main, cpu = proc_usage(server.proc.pid)
        nproc_tree = len(descendants(server.proc.pid))
        out = server.stop(signal.SIGINT, timeout=120)
    finally:
        server.kill()
    try:
        summary = json.loads(out)
    except ValueError:
        summary = {"error": out[-500:].decode(errors="replace")}
    # The answers said committed; count what the store holds: the receiver's own tally on Ctrl-C
    # and, after it has gone, `muster store verify` (re-checks every event's digest and chain
    # link, and counts them). The smaller of the two is what counts as stored.
    verify = subprocess.run([args.muster_bin, "--store", store, "store", "verify", "--json"],
                            capture_output=True, text=True)
    try:
        v = summarise_verify(json.loads(verify.stdout), verify.returncode)
    except ValueError:
        v = {"exit": verify.returncode, "intact": False, "events_checked": 0,
             "error": (verify.stdout + verify.stderr)[-500:]}
    events = min(summary.get("stored", 0), v["events_checked"] if v["intact"] else 0)
    size = du_mb(work)
    return {"tool": "muster-listen", "concurrency": args.concurrency, "spans_sent": args.spans,
            "spans_stored": events // 2, "events_stored": events, "ready_s": round(ready_s, 2),
            "answered_s": round(st["answered_s"], 3), "stored_s": round(stored_s, 3),
            "requests_ok": st["ok"], "requests_failed": st["failed"], "retries_503": st["retries"],
            "rejected_spans": st["rejected_spans"], "errors": st["errors"],
            "muster_summary": summary, "store_verify": v,
            "peak_rss_mb": rss_total, "peak_rss_main_mb": rss_main, "processes": nproc_tree,
            "cpu_s": round(cpu - cpu_ready, 2), "cpu_startup_s": cpu_ready, "store_mb": size}


def summarise_verify(v, rc):
    """`store verify --json`: every source's chain intact, and how many events it checked."""
    sources = v.get("sources") or []
    return {"exit": rc, "intact": rc == 0 and bool(sources) and all(s.get("intact") for s in sources),
            "events_checked": sum(s.get("events_checked", 0) for s in sources),
            "problems": [p for s in sources for p in s.get("problems", [])][:5],
            **({"error": v["error"]} if "error" in v else {})}


def round_muster_file(args):
    work = args.workdir
    os.makedirs(work, exist_ok=True)
    store = os.path.join(work, "evidence.db")
    t0 = time.monotonic()
    proc = subprocess.Popen([args.muster_bin, "--store", store, "ingest", args.jsonl, "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
    with open(args.pidfile, "a") as f:
        f.write(f"{proc.pid}\n")
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    d = json.loads(out)
    return {"tool": "muster-file", "concurrency": None, "spans_sent": args.spans,
            "spans_stored": d["stored"] // 2, "events_stored": d["stored"],
            "quarantined": d.get("quarantined"), "elapsed_ms": d["elapsed_ms"],
            "stored_s": round(d["elapsed_ms"] / 1000, 3), "process_wall_s": round(wall, 3),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 2), "exit": proc.returncode,
            "store_mb": du_mb(work)}


def cmd_round(args):
    if args.tool == "muster-file":
        res = round_muster_file(args)
    else:
        bodies = read_bodies(args.bodies)
        res = (round_phoenix if args.tool == "phoenix" else round_muster_listen)(args, bodies)
    res["round"] = args.round
    res["load_after"] = open("/proc/loadavg").read().split()[0]
    secs = res["stored_s"]
    res["spans_per_s"] = round(res["spans_stored"] / secs) if secs else None
    if res.get("events_stored") is not None:
        res["events_per_s"] = round(res["events_stored"] / secs) if secs else None
    if res.get("answered_s"):
        res["spans_per_s_answered"] = round(res["spans_sent"] / res["answered_s"])
    print(json.dumps(res))


# --- report ----------------------------------------------------------------------------------------

def cmd_report(args):
    rows = [json.loads(l) for l in open(args.rounds) if l.strip()]
    meta = json.load(open(args.meta))
    spans = meta["spans"]

    def med(vals):
        vals = [v for v in vals if v is not None]
        return statistics.median(vals) if vals else None

    groups = {}
    for r in rows:
        groups.setdefault((r["tool"], r["concurrency"]), []).append(r)
    summary = {}
    for (tool, conc), rs in groups.items():
        complete = all(r["spans_stored"] == spans for r in rs)
        key = tool if conc is None else f"{tool}@c{conc}"
        summary[key] = {
            "tool": tool, "concurrency": conc, "rounds": len(rs), "all_spans_stored": complete,
            "spans_per_s": med([r["spans_per_s"] for r in rs]),
            "spans_per_s_rounds": [r["spans_per_s"] for r in rs],
            "events_per_s": med([r.get("events_per_s") for r in rs]),
            "stored_s": med([r["stored_s"] for r in rs]),
            "answered_s": med([r.get("answered_s") for r in rs]),
            "spans_per_s_answered": med([r.get("spans_per_s_answered") for r in rs]),
            "peak_rss_mb": med([r["peak_rss_mb"] for r in rs]),
            "peak_rss_mb_max": max(r["peak_rss_mb"] for r in rs),
            "cpu_s": med([r["cpu_s"] for r in rs]),
            "store_mb": med([r["store_mb"] for r in rs]),
            "ready_s": med([r.get("ready_s") for r in rs]),
            "retries_503": sum(r.get("retries_503", 0) for r in rs),
        }
    ratios = {}
    for conc in sorted({c for (_t, c) in groups if c is not None}):
        m, p = summary.get(f"muster-listen@c{conc}"), summary.get(f"phoenix@c{conc}")
        if m and p and m["spans_per_s"] and p["spans_per_s"]:
            ratios[f"c{conc}"] = {
                "stored": round(m["spans_per_s"] / p["spans_per_s"], 2),
                "answered": round(m["spans_per_s_answered"] / p["spans_per_s_answered"], 2),
                "cpu_s": round(m["cpu_s"] / p["cpu_s"], 3) if p["cpu_s"] else None,
                "peak_rss": round(m["peak_rss_mb"] / p["peak_rss_mb"], 2) if p["peak_rss_mb"] else None,
            }
            if "muster-file" in summary:
                ratios[f"c{conc}"]["muster_file_vs_phoenix"] = round(
                    summary["muster-file"]["spans_per_s"] / p["spans_per_s"], 2)

    def fmt(v, spec=",.0f"):
        return "-" if v is None else format(v, spec)

    print(f"muster vs Arize Phoenix — OTLP/HTTP protobuf ingest of {spans:,} GenAI chat spans "
          f"({meta['bodies']} bodies of {meta['spans_per_body']} spans, {meta['pb_bytes'] / 1e6:.1f} MB "
          f"protobuf; {meta['jsonl_bytes'] / 1e6:.1f} MB OTLP/JSON), median of {meta['rounds']} rounds")
    head = (f"{'tool':<24} {'spans/s':>9} {'events/s':>9} {'stored s':>9} {'answered s':>11} "
            f"{'peak RSS MB':>12} {'CPU s':>7} {'store MB':>9}  per round spans/s")
    print(head)
    print("-" * len(head))
    order = sorted(summary, key=lambda k: (summary[k]["concurrency"] or 99, k))
    for k in order:
        s = summary[k]
        name = {"muster-listen": "muster ingest --listen", "phoenix": "phoenix /v1/traces",
                "muster-file": "muster ingest FILE"}[s["tool"]]
        if s["concurrency"] is not None:
            name += f" c={s['concurrency']}"
        print(f"{name:<24} {fmt(s['spans_per_s']):>9} {fmt(s['events_per_s']):>9} "
              f"{fmt(s['stored_s'], '.2f'):>9} {fmt(s['answered_s'], '.2f'):>11} "
              f"{fmt(s['peak_rss_mb'], '.0f'):>12} {fmt(s['cpu_s'], '.1f'):>7} {fmt(s['store_mb'], '.0f'):>9}  "
              f"{' / '.join(fmt(v) for v in s['spans_per_s_rounds'])}"
              + ("" if s["all_spans_stored"] else "  (NOT all spans stored!)"))
    print("spans/s = spans / (first request -> every span stored and queryable); muster stores 2 events "
          "per span; 'answered' = first request -> last answer; RSS = VmHWM of the server's process tree")
    for c, r in ratios.items():
        conns = "1 client connection" if c == "c1" else f"{c[1:]} client connections"
        print(f"ratio muster ÷ Phoenix, {conns}: {r['stored']:.1f}× spans/s to stored "
              f"({r['answered']:.2f}× to answered); CPU seconds muster/Phoenix {fmt(r['cpu_s'], '.3f')}; "
              f"peak RSS muster/Phoenix {fmt(r['peak_rss'], '.2f')}"
              + (f"; muster file ingest ÷ Phoenix {r['muster_file_vs_phoenix']:.1f}×"
                 if "muster_file_vs_phoenix" in r else ""))
    print(f"machine: {meta['nproc']} cores, {meta['cpu']}; {meta['kernel']}; load average "
          f"{meta['load_before']} (before) / {meta['load_after']} (after)")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()))
    for n in meta.get("notes", []):
        print(f"note: {n}")
    result = {"generated": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
              **{k: meta[k] for k in meta if k not in ("notes",)},
              "summary": summary, "ratio_muster_over_phoenix": ratios, "notes": meta.get("notes", []),
              "rounds_raw": rows}
    with open(args.output, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print(f"wrote {args.output}")


def on_sigterm(_sig, _frame):
    raise SystemExit(143)  # so `finally` stops the server, as on Ctrl-C


def main():
    signal.signal(signal.SIGTERM, on_sigterm)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("convert")
    c.add_argument("input")
    c.add_argument("output")
    c.set_defaults(func=cmd_convert)
    s = sub.add_parser("serve-phoenix")
    s.set_defaults(func=cmd_serve_phoenix)
    r = sub.add_parser("round")
    r.add_argument("--tool", required=True, choices=["muster-listen", "phoenix", "muster-file"])
    r.add_argument("--round", type=int, default=1)
    r.add_argument("--bodies")
    r.add_argument("--jsonl")
    r.add_argument("--spans", type=int, required=True)
    r.add_argument("--concurrency", type=int, default=1)
    r.add_argument("--workdir", required=True)
    r.add_argument("--muster-bin")
    r.add_argument("--pidfile", required=True)
    r.set_defaults(func=cmd_round)
    p = sub.add_parser("report")
    p.add_argument("rounds")
    p.add_argument("output")
    p.add_argument("meta")
    p.set_defaults(func=cmd_report)
    args = ap.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
