#!/usr/bin/python3
"""Turn the guest's raw.json into the benchmark report: results.md (the
tables README shows), results.json (medians, spreads, every sample, the
targets) and PNG plots (Debian's python3-matplotlib), plus the perf
profiles as text.

  bench/report.py RAW.json OUTDIR      (run.py calls write() itself)

Every figure is a median over the runs that passed their checks, with the
spread as min-max; a failed run (the restored workload did not verify, or
a tool failed) counts in "runs ok" and nowhere else.
"""

import json
import statistics
import sys
from pathlib import Path

TOOLS = ("linux-cr", "criu")
METRICS = ("checkpoint_s", "freeze_s", "restart_s", "image_bytes", "checkpoint_peak_rss", "restart_peak_rss")
GIB = 1024 ** 3
MIB = 1024 ** 2


def stats(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values),
            "samples": values}


def fmt_time(s):
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1e3:.1f} ms" if s < 0.1 else f"{s * 1e3:.0f} ms"
    return f"{s:.2f} s"


def fmt_bytes(b):
    if b is None:
        return "-"
    if b >= GIB:
        return f"{b / GIB:.2f} GiB"
    if b >= MIB:
        return f"{b / MIB:.1f} MiB"
    return f"{b / 1024:.0f} KiB"


def cell(st, fmt):
    if not st:
        return "-"
    if st["n"] == 1 or st["min"] == st["max"]:
        return fmt(st["median"])
    return f"{fmt(st['median'])} ({fmt(st['min'])}–{fmt(st['max'])})"


def ratio(a, b):
    """a / b of two medians, None when either is missing."""
    if not a or not b or not b["median"]:
        return None
    return a["median"] / b["median"]


def summarize(raw):
    """Group the runs: {section: {workload: {tool: {metric: stats}}}}."""
    groups = {}
    for r in raw["runs"]:
        g = groups.setdefault(r.get("section", "workloads"), {}).setdefault(r["workload"], {})
        t = g.setdefault(r["tool"], {"runs": 0, "ok": 0, "errors": [], "_rows": []})
        t["runs"] += 1
        if r["ok"]:
            t["ok"] += 1
            t["_rows"].append(r)
        else:
            t["errors"].append(r.get("error", "").splitlines()[0] if r.get("error") else "failed")
        for k in ("curve", "x"):
            if k in r:
                t[k] = r[k]
    for sec in groups.values():
        for tools in sec.values():
            for t in tools.values():
                rows = t.pop("_rows")
                for m in METRICS:
                    t[m] = stats([r.get(m) for r in rows])
                if rows and "criu_dump_stats" in rows[0]:
                    t["criu_dump_stats"] = {k: stats([r["criu_dump_stats"].get(k) for r in rows])
                                            for k in rows[0]["criu_dump_stats"] if k != "error"}
                    t["criu_restore_stats"] = {k: stats([r.get("criu_restore_stats", {}).get(k) for r in rows])
                                               for k in rows[0].get("criu_restore_stats", {}) if k != "error"}
    return groups


def best_write(limits):
    if not limits:
        return None, None
    name = max(("write-1m", "write-8m", "uring-1m"), key=lambda k: limits[k]["gib_per_s"])
    return name, limits[name]["gib_per_s"]


def linear_fit(xs, ys):
    """Least squares y = a + b x; returns (a, b, r2, worst relative residual)."""
    n = len(xs)
    if n < 3:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if not sxx:
        return None
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    a = my - b * mx
    ss_res = sum((y - (a + b * x)) ** 2 for x, y in zip(xs, ys))
    ss_tot = sum((y - my) ** 2 for y in ys)
    r2 = 1 - ss_res / ss_tot if ss_tot else 1.0
    worst = max(abs(y - (a + b * x)) / y for x, y in zip(xs, ys) if y)
    return a, b, r2, worst


def targets(groups, limits, cfg, pipe=()):
    """Each of issue 6's targets: the ratio measured, the bar, met or not."""
    w = groups.get("workloads", {})
    out = []

    def get(wl, tool, m):
        return (w.get(wl, {}).get(tool) or {}).get(m)

    def add(name, value, bar, higher_is_better=True, note=""):
        met = None if value is None else (value >= bar if higher_is_better else value <= bar)
        out.append({"target": name, "measured": value, "bar": bar, "higher_is_better": higher_is_better, "met": met,
                    "note": note})

    lc = [get("W1", "linux-cr", "checkpoint_s"), get("W1", "linux-cr", "restart_s")]
    cc = [get("W1", "criu", "checkpoint_s"), get("W1", "criu", "restart_s")]
    if all(lc) and all(cc):
        add("W1 checkpoint+restart, CRIU ÷ linux-cr", (cc[0]["median"] + cc[1]["median"]) /
            (lc[0]["median"] + lc[1]["median"]), 10)
    else:
        add("W1 checkpoint+restart, CRIU ÷ linux-cr", None, 10)
    add("W2 checkpoint, criu dump ÷ linux-cr", ratio(get("W2", "criu", "checkpoint_s"),
                                                     get("W2", "linux-cr", "checkpoint_s")), 1.5)
    name, bw = best_write(limits)
    lck, img = get("W2", "linux-cr", "checkpoint_s"), get("W2", "linux-cr", "image_bytes")
    if bw and lck and img:
        add(f"W2 checkpoint bandwidth ÷ best userspace write into tmpfs ({name})",
            img["median"] / lck["median"] / GIB / bw, 0.9)
        direct = [x for x in pipe if x.get("mode") == "direct" and x.get("ok")]
        if direct:
            d = direct[0]
            add(f"W2 checkpoint(2) alone, no cr-tool (the direct path) ÷ best userspace write ({name})",
                d["file_bytes"] / d["syscall_seconds"] / GIB / bw, 0.9, note="one run, for the breakdown")
    for wl in w:
        add(f"{wl} restart, criu restore ÷ linux-cr", ratio(get(wl, "criu", "restart_s"),
                                                           get(wl, "linux-cr", "restart_s")), 1.5)
    for wl in w:
        add(f"{wl} freeze, linux-cr ÷ CRIU", ratio(get(wl, "linux-cr", "freeze_s"), get(wl, "criu", "freeze_s")),
            0.5, higher_is_better=False)
    for wl in w:
        add(f"{wl} image size, linux-cr ÷ CRIU", ratio(get(wl, "linux-cr", "image_bytes"),
                                                       get(wl, "criu", "image_bytes")), 1.0, higher_is_better=False)
    for curve in ("rss", "procs"):
        fit = curve_fit(groups, curve, "linux-cr", "checkpoint_s")
        if fit:
            add(f"linux-cr checkpoint time linear in {curve} (R² of a straight line)", fit["r2"], 0.99,
                note=f"{fit['slope_text']}; worst point {fit['worst'] * 100:.0f}% off the line")
    return out


def curve_points(groups, curve, tool, metric):
    pts = []
    for wl, tools in groups.get("scaling", {}).items():
        t = tools.get(tool)
        if t and t.get("curve") == curve and t.get(metric):
            pts.append((t["x"], t[metric]))
    return sorted(pts, key=lambda p: p[0])


def curve_fit(groups, curve, tool, metric):
    pts = curve_points(groups, curve, tool, metric)
    fit = linear_fit([p[0] for p in pts], [p[1]["median"] for p in pts])
    if not fit:
        return None
    a, b, r2, worst = fit
    unit = {"rss": "MiB", "procs": "process", "vmas": "VMA", "fds": "fd"}[curve]
    return {"intercept_s": a, "slope_s": b, "r2": r2, "worst": worst,
            "slope_text": f"{fmt_time(b)} per {unit} + {fmt_time(a)}"}


def short(sym, width=48):
    """A C++ symbol without its template arguments, cut to @width characters."""
    out, depth = "", 0
    for ch in sym:
        if ch == "<":
            depth += 1
            if depth == 1:
                out += "<…>"
        elif ch == ">":
            depth = max(depth - 1, 0)
        elif depth == 0:
            out += ch
    return out if len(out) <= width else out[:width - 1] + "…"


def profile_rows(text, comm):
    """(percent, dso, symbol) of @comm's entries in a `perf report --sort comm,dso,sym` text."""
    rows = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 5 or not parts[0].endswith("%") or parts[1] != comm:
            continue
        try:
            pct = float(parts[0][:-1])
        except ValueError:
            continue
        dso = parts[2].strip("[]")
        sym = " ".join(parts[4:]) if parts[3].startswith("[") else " ".join(parts[3:])
        rows.append((pct, dso, sym))
    return sorted(rows, reverse=True)


def markdown(raw, groups, tgts, smoke):
    cfg, env, host = raw["config"], raw.get("env", {}), raw.get("host", {})
    lines = []
    p = lines.append
    p(f"Measured {'(smoke run, tiny sizes) ' if smoke else ''}in one boot of the plain kernel "
      f"{env.get('uname', {}).get('release', '?')}: QEMU TCG `-cpu {host.get('vm_cpu', '?')}` "
      f"({env.get('cpu_model_name', '?')}), {host.get('vm_smp', '?')} vCPUs, {host.get('vm_mem', '?')}, "
      f"{host.get('qemu', '?')} on {host.get('host_cpu', '?')}; clocksource {env.get('clocksource', '?')}; "
      f"{env.get('criu_version', 'criu ?').splitlines()[0]} (`criu check`: "
      f"{'ok' if env.get('criu_check', {}).get('status') == 0 else 'failed'}). "
      f"{cfg['reps']} runs per tool and workload, alternating tools; scaling points {cfg['scale_reps']} runs each. "
      f"Images on tmpfs. Each cell: median (min–max). Host load average before/after: "
      f"{host.get('host_load_before', [0])[0]:.1f}/{host.get('host_load_after', [0])[0]:.1f} on "
      f"{host.get('host_cpus', '?')} host CPUs.")
    p("")
    p("| workload | tool | runs ok | checkpoint | freeze | restart | image | peak RSS: checkpoint / restart |")
    p("| --- | --- | --- | --- | --- | --- | --- | --- |")
    whats = {w["name"]: w["what"] for w in cfg["workloads"]}
    for wl, tools in groups.get("workloads", {}).items():
        for tool in TOOLS:
            t = tools.get(tool)
            if not t:
                continue
            p(f"| {wl + ' ' + whats.get(wl, '') if tool == TOOLS[0] else ''} | {tool} | {t['ok']}/{t['runs']} | "
              f"{cell(t['checkpoint_s'], fmt_time)} | {cell(t['freeze_s'], fmt_time)} | "
              f"{cell(t['restart_s'], fmt_time)} | {cell(t['image_bytes'], fmt_bytes)} | "
              f"{cell(t['checkpoint_peak_rss'], fmt_bytes)} / {cell(t['restart_peak_rss'], fmt_bytes)} |")
        l, c = tools.get("linux-cr", {}), tools.get("criu", {})

        def r(m):
            v = ratio(c.get(m), l.get(m))
            return f"**{v:.2f}×**" if v else "-"
        p(f"| | CRIU ÷ linux-cr | | {r('checkpoint_s')} | {r('freeze_s')} | {r('restart_s')} | "
          f"{r('image_bytes')} | {r('checkpoint_peak_rss')} / {r('restart_peak_rss')} |")
    startup = env.get("startup_s")
    if startup:
        p("")
        p("Starting the tool alone (`cr-tool --help`, `criu --version`, median of 5): "
          + ", ".join(f"{k} {fmt_time(v)}" for k, v in startup.items())
          + ": a floor under every checkpoint and restart time above.")
    noise = raw.get("noise", {})
    if noise:
        p("")
        p("Freeze floor (largest stamp gap in "
          f"{cfg['noise_window']:.1f} s with no checkpoint, scheduling alone): "
          + ", ".join(f"{k} {fmt_time(v)}" for k, v in noise.items()) + ".")

    w2 = groups.get("workloads", {}).get("W2", {})
    limits = raw.get("limits")
    if w2 or limits:
        p("")
        p("**W2 throughput and the bandwidth limits** (memory bytes ÷ checkpoint wall time; limits: best of "
          f"{cfg['limit_reps']} in the same boot, {cfg['limits_mb']} MiB)")
        p("")
        p("| what | GiB/s |")
        p("| --- | --- |")
        w2_bytes = next((w["args"][1] for w in cfg["workloads"] if w["name"] == "W2"), 0) * MIB
        for tool in TOOLS:
            t = w2.get(tool)
            if t and t.get("checkpoint_s"):
                st = t["checkpoint_s"]
                p(f"| W2 checkpoint, {tool} | {w2_bytes / st['median'] / GIB:.2f} "
                  f"({w2_bytes / st['max'] / GIB:.2f}–{w2_bytes / st['min'] / GIB:.2f}) |")
        for tool in TOOLS:
            t = w2.get(tool)
            if t and t.get("restart_s"):
                p(f"| W2 restart, {tool} | {w2_bytes / t['restart_s']['median'] / GIB:.2f} |")
        if limits:
            desc = {"memcpy": "memcpy, both buffers faulted in", "write-1m": "write(2) into a new tmpfs file, 1 MiB calls",
                    "write-8m": "write(2) into a new tmpfs file, 8 MiB calls",
                    "uring-1m": "io_uring writes into a new tmpfs file, 1 MiB × 8 in flight",
                    "read-fresh": "read(2) from tmpfs into untouched memory (a restart's limit)"}
            for k, d in desc.items():
                if k in limits:
                    p(f"| limit: {d} | {limits[k]['gib_per_s']:.2f} |")

    pipe = [x for x in raw.get("pipe", [])]
    if pipe:
        p("")
        p("**The image's path** (W2, the process left running; `direct` is checkpoint(2) writing the file "
          "itself, as `cr-tool checkpoint` does; the others read a pipe the kernel writes)")
        p("")
        p("| path | wall | checkpoint(2) (= freeze) | measured freeze | file | vs direct |")
        p("| --- | --- | --- | --- | --- | --- |")
        direct = next((x for x in pipe if x.get("mode") == "direct" and x.get("ok")), None)
        for x in pipe:
            name = {"direct": "direct to file", "uring": "pipe → io_uring → file", "splice": "pipe → splice → file",
                    "cr-tool": "`cr-tool checkpoint` (file, read back)",
                    "cr-tool stdout": "`cr-tool checkpoint --output - \\| cat >`"}[x["mode"]]
            if x.get("zstd"):
                name = (f"`cr-tool checkpoint --compress-level {x['zstd']}`" if x["mode"] == "cr-tool"
                        else f"pipe → zstd -{x['zstd']} → io_uring → file")
            if not x.get("ok"):
                p(f"| {name} | failed: {x.get('error', '')[:80]} | | | | |")
                continue
            vs = f"{x['seconds'] / direct['seconds']:.2f}× the time" if direct else "-"
            # cr-tool's own runs have no separate syscall time: its wall time includes its start-up.
            p(f"| {name} | {fmt_time(x['seconds'])} | {fmt_time(x['syscall_seconds'])} | "
              f"{fmt_time(x.get('freeze_s'))} | {fmt_bytes(x['file_bytes'])} | {vs} |")

    if tgts:
        p("")
        p("**Targets** (issue 6; ratios of medians in this run)")
        p("")
        p("| target | bar | measured | |")
        p("| --- | --- | --- | --- |")
        for t in tgts:
            bar = f"{'≥' if t['higher_is_better'] else '≤'} {t['bar']}"
            v = "-" if t["measured"] is None else f"{t['measured']:.3f}" if t["measured"] < 10 else f"{t['measured']:.1f}"
            verdict = "no data" if t["met"] is None else "met" if t["met"] else "**missed**"
            p(f"| {t['target']} | {bar} | {v}{' — ' + t['note'] if t['note'] else ''} | {verdict} |")

    scaling = groups.get("scaling", {})
    if scaling:
        p("")
        p("**Scaling** (median of the runs at each point; plots: `scaling-*.png`)")
        for curve in cfg["scaling"]:
            name = curve["name"]
            p("")
            p(f"| {name} ({curve['unit']}) | linux-cr checkpoint | CRIU dump | linux-cr restart | CRIU restore | "
              "linux-cr freeze | CRIU freeze | linux-cr image | CRIU image |")
            p("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
            for x in curve["points"]:
                row = [str(x)]
                for m, f in (("checkpoint_s", fmt_time), ("restart_s", fmt_time), ("freeze_s", fmt_time),
                             ("image_bytes", fmt_bytes)):
                    for tool in TOOLS:
                        t = scaling.get(f"{name}={x}", {}).get(tool)
                        st = t.get(m) if t else None
                        bad = "" if not t or t["ok"] == t["runs"] else f" ({t['runs'] - t['ok']} failed)"
                        row.append((f(st["median"]) if st else "-") + bad)
                p("| " + " | ".join(row) + " |")
            fits = []
            for tool in TOOLS:
                for m, label in (("checkpoint_s", "checkpoint"), ("restart_s", "restart")):
                    fit = curve_fit(groups, name, tool, m)
                    if fit:
                        fits.append(f"{tool} {label} {fit['slope_text']} (R² {fit['r2']:.3f})")
            if fits:
                p("")
                p("Straight-line fits: " + "; ".join(fits) + ".")

    crit = {tool: groups.get("workloads", {}).get("W2", {}).get(tool, {}) for tool in ("criu",)}
    ds = crit["criu"].get("criu_dump_stats") if crit["criu"] else None
    if ds:
        p("")
        keys = [k for k in ("freezing_time", "frozen_time", "memdump_time", "memwrite_time") if ds.get(k)]
        rs = crit["criu"].get("criu_restore_stats") or {}
        rkeys = [k for k in ("forking_time", "restore_time") if rs.get(k)]
        p("CRIU's own accounting of W2 (stats-dump/stats-restore, medians): "
          + ", ".join(f"{k} {fmt_time(ds[k]['median'] / 1e6)}" for k in keys)
          + ("; " + ", ".join(f"{k} {fmt_time(rs[k]['median'] / 1e6)}" for k in rkeys) if rkeys else "") + ".")

    profiles = raw.get("profiles") or {}
    if profiles:
        p("")
        p("**Where the time goes** (perf, cpu-clock sampling of the whole VM during one checkpoint and one "
          "restart; the tool's own process, kernel and user, as a share of its samples among entries of "
          "0.5% or more; full reports in `profile-*.txt`)")
        p("")
        p("| workload | tool | phase | the tool's share of all samples | top symbols (share of the tool's samples) |")
        p("| --- | --- | --- | --- | --- |")
        for wl, tools in profiles.items():
            for tool, phases in tools.items():
                comm = "cr-tool" if tool == "linux-cr" else "criu"
                for phase, text in phases.items():
                    rows = profile_rows(text, comm)
                    total = sum(r[0] for r in rows)
                    top = ", ".join(f"`{short(sym)}` ({dso}) {pct / total * 100:.0f}%"
                                    for pct, dso, sym in rows[:5]) if total else "-"
                    p(f"| {wl} | {tool} | {phase} | {total:.0f}% | {top} |")
    comp = raw.get("composition") or {}
    if comp:
        p("")
        p("**What the images are made of** (one image per workload and tool: linux-cr by record type, "
          "`cr-tool inspect`; CRIU by image file kind)")
        p("")
        p("| workload | linux-cr | CRIU |")
        p("| --- | --- | --- |")
        for wl, tools in comp.items():
            cells = []
            for tool in TOOLS:
                c = tools.get(tool) or {}
                cells.append(", ".join(f"{k} {fmt_bytes(v)}" for k, v in list(c.items())[:6]
                                       if isinstance(v, (int, float))) or "-")
            p(f"| {wl} | {cells[0]} | {cells[1]} |")

    errors = raw.get("errors", [])
    failed = [r for r in raw["runs"] if not r["ok"]]
    if failed or errors or host.get("kernel_splats"):
        p("")
        p("**Failures**")
        p("")
        for r in failed:
            p(f"- {r['workload']} {r['tool']} (run {r.get('rep', 0) + 1}): {r.get('error', '').splitlines()[0]}")
        for e in errors:
            p(f"- {e.splitlines()[0]}")
        for s in host.get("kernel_splats", []):
            p(f"- kernel: {s}")
    return "\n".join(lines) + "\n"


def plots(raw, groups, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    colors = {"linux-cr": "tab:blue", "criu": "tab:orange"}
    for curve in raw["config"]["scaling"]:
        name = curve["name"]
        fig, axes = plt.subplots(1, 3, figsize=(14, 4))
        for ax, (m, label) in zip(axes, (("checkpoint_s", "checkpoint"), ("restart_s", "restart"),
                                         ("freeze_s", "freeze"))):
            for tool in TOOLS:
                pts = curve_points(groups, name, tool, m)
                if not pts:
                    continue
                xs = [x for x, _ in pts]
                med = [s["median"] for _, s in pts]
                lo = [s["median"] - s["min"] for _, s in pts]
                hi = [s["max"] - s["median"] for _, s in pts]
                ax.errorbar(xs, med, yerr=[lo, hi], marker="o", capsize=3, label=tool, color=colors[tool])
            ax.set_xlabel(f"{name} ({curve['unit']})")
            ax.set_ylabel("seconds (median, min–max)")
            ax.set_title(f"{label} time vs {name}")
            ax.set_ylim(bottom=0)
            ax.set_xlim(left=0)
            ax.grid(alpha=0.3)
            if ax.get_legend_handles_labels()[0]:
                ax.legend()
        fig.tight_layout()
        path = out / f"scaling-{name}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        made.append(path.name)

    w = groups.get("workloads", {})
    if w:
        names = list(w)
        fig, ax = plt.subplots(figsize=(10, 4))
        width = 0.2
        for i, (m, label) in enumerate((("checkpoint_s", "checkpoint"), ("freeze_s", "freeze"),
                                        ("restart_s", "restart"), ("image_bytes", "image size"))):
            vals = [ratio(w[n].get("criu", {}).get(m), w[n].get("linux-cr", {}).get(m)) or 0 for n in names]
            ax.bar([j + (i - 1.5) * width for j in range(len(names))], vals, width, label=label)
        ax.axhline(1, color="black", linewidth=0.8)
        ax.set_yscale("log")
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names)
        ax.set_ylabel("CRIU ÷ linux-cr (median; >1: linux-cr better)")
        ax.set_title("linux-cr against CRIU, per workload")
        ax.grid(alpha=0.3, axis="y")
        ax.legend()
        fig.tight_layout()
        path = out / "workloads.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        made.append(path.name)
    return made


def write(raw, out, smoke=False):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if raw.get("profiles") and set(raw["profiles"]) <= set(TOOLS):     # one workload, keyed by tool (older runs)
        raw["profiles"] = {(raw["config"].get("profile") or {}).get("name", "W2"): raw["profiles"]}
    groups = summarize(raw)
    tgts = [] if smoke else targets(groups, raw.get("limits"), raw["config"], raw.get("pipe") or ())
    md = markdown(raw, groups, tgts, smoke)
    summary = {"config": raw["config"], "env": raw.get("env"), "host": raw.get("host"), "limits": raw.get("limits"),
               "noise": raw.get("noise"), "results": groups, "targets": tgts, "pipe": raw.get("pipe"),
               "errors": raw.get("errors"), "guest_seconds": raw.get("seconds"),
               "composition": raw.get("composition")}
    (out / "results.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    for wl, tools in (raw.get("profiles") or {}).items():
        for tool, prof in tools.items():
            for phase, text in prof.items():
                (out / f"profile-{wl}-{tool}-{phase}.txt").write_text(text + "\n")
    made = []
    if not smoke:
        try:
            made = plots(raw, groups, out)
        except ImportError as e:
            md += f"\n(no plots: {e})\n"
    if made:
        md += "\n" + "\n".join(f"![{m}]({m})" for m in made) + "\n"
    (out / "results.md").write_text(md)
    return md


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: report.py RAW.json OUTDIR")
    print(write(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2])))
