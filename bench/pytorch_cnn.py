#!/usr/bin/env python3
"""Reference throughput of the lab report's CNN in PyTorch on this machine.

The same architecture, batch size, optimizer, warm-up, timed steps and inference
timing as `mnist-lab bench` (lib/diagnostics/bench.ts), which runs this script beside its own
figures, alternating, so the two compare as a ratio in one run.
Needs torch (Debian: `apt-get install -y python3-torch`), run with that interpreter:
    /usr/bin/python3 bench/pytorch_cnn.py --optimizer adam
Prints one JSON object on the last line, naming the CPU, the ISA oneDNN dispatched
to and the thread count. `--profile` first prints torch.profiler's per-op table of
one training step and one inference batch (to stderr), the counterpart of
bench/profile_step.ts.
"""
import argparse
import json
import os
import re
import resource
import sys
import tempfile
import time

import torch
import torch.nn as nn


def report_cnn(padding: str) -> nn.Sequential:
    """conv(5x5, valid) x2 -> pool -> conv(5x5) -> conv(3x3) -> pool -> conv(3x3) -> flatten -> dense 256 -> dense 10,
    with conv 3-5 padded as `padding` names them (`vvs`: valid, valid, same, the recipe's reading)."""
    def conv(cin, k, pad):
        return [nn.Conv2d(cin, 64, k, padding=pad), nn.ReLU(), nn.BatchNorm2d(64)]
    p3, p4, p5 = (k // 2 if letter == "s" else 0 for letter, k in zip(padding, (5, 3, 3)))
    side = ((28 - 8) // 2 - (0 if p3 else 4) - (0 if p4 else 2)) // 2 - (0 if p5 else 2)
    if side < 1:
        raise SystemExit(f"Expected a padding reading that leaves an image for conv 5 but found {padding}")
    return nn.Sequential(
        *conv(1, 5, 0), *conv(64, 5, 0), nn.MaxPool2d(2, 2), nn.Dropout(0.25),
        *conv(64, 5, p3), *conv(64, 3, p4), nn.MaxPool2d(2, 2), nn.Dropout(0.25),
        *conv(64, 3, p5), nn.Dropout(0.25),
        nn.Flatten(), nn.Linear(side * side * 64, 256), nn.ReLU(), nn.Dropout(0.25), nn.Linear(256, 10))


def cpu_model() -> str:
    """`model name` of /proc/cpuinfo with family and model, as lib/machine.ts names it."""
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
    except OSError:
        return "unknown CPU"
    field = lambda name: (re.search(rf"^{name}\s*:\s*(.*)$", text, re.M) or [None, None])[1]
    name, family, model = field("model name"), field("cpu family"), field("model")
    return f"{name} (family {family}, model {model})" if family and model else name or "unknown CPU"


def isa_name(text: str) -> str:
    """avx512 / avx2 / avx / sse4.1 from oneDNN's or ATen's wording of an ISA."""
    t = text.lower().replace("-", "")
    for key, name in (("avx512", "avx512"), ("avx2", "avx2"), ("avx", "avx"), ("sse4", "sse4.1")):
        if key in t:
            return name
    return "unknown"


def onednn_isa() -> str:
    """The ISA oneDNN dispatches to (ONEDNN_MAX_CPU_ISA may lower it), read from its verbose banner."""
    sys.stdout.flush()
    with tempfile.TemporaryFile(mode="w+") as captured:
        saved = os.dup(1)
        os.dup2(captured.fileno(), 1)
        try:
            with torch.backends.mkldnn.verbose(torch.backends.mkldnn.VERBOSE_ON):
                nn.functional.conv2d(torch.rand(16, 8, 8, 8), torch.rand(8, 8, 3, 3))
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
        captured.seek(0)
        found = re.search(r"isa:(.*)", captured.read())
    return isa_name(found.group(1)) if found else "unknown"


def aten_isa() -> str:
    """The ISA of ATen's own vectorised kernels (elementwise ops, optimizers): ATEN_CPU_CAPABILITY may lower it."""
    getter = getattr(getattr(torch.backends, "cpu", None), "get_cpu_capability", None)
    if getter:
        return isa_name(getter())
    found = re.search(r"CPU capability usage: (\S+)", torch.__config__.show())
    return isa_name(found.group(1)) if found else "unknown"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=86)
    ap.add_argument("--warmup", type=int, default=3, help="untimed training steps first")
    ap.add_argument("--steps", type=int, default=20, help="timed training steps")
    ap.add_argument("--infer-batch", type=int, default=1000)
    ap.add_argument("--infer-repeats", type=int, default=2, help="inference is the best of this many after one warm-up")
    ap.add_argument("--optimizer", choices=["rmsprop", "adam"], default="rmsprop")
    ap.add_argument("--padding", default="vvs", help="conv 3-5's padding reading, e.g. vvs (valid, valid, same) or sss")
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--profile", action="store_true", help="print torch.profiler's per-op tables to stderr")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if len(args.padding) != 3 or set(args.padding) - {"s", "v"}:
        raise SystemExit(f"Expected --padding to be three of s/v (e.g. vvs) but found {args.padding!r}")
    model = report_cnn(args.padding)
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    # Keras's (and the report's) settings: RMSprop rho 0.9, both with epsilon outside the square root.
    if args.optimizer == "rmsprop":
        opt = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-8)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.rand(args.batch, 1, 28, 28).to(memory_format=fmt)
    y = torch.randint(0, 10, (args.batch,))

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    for _ in range(args.warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        step()
    train_ips = args.batch * args.steps / (time.perf_counter() - t0)

    model.eval()
    xb = torch.rand(args.infer_batch, 1, 28, 28).to(memory_format=fmt)
    best = float("inf")
    with torch.no_grad():
        model(xb)
        for _ in range(max(1, args.infer_repeats)):
            t0 = time.perf_counter()
            model(xb)
            best = min(best, time.perf_counter() - t0)
    infer_ips = args.infer_batch / best

    if args.profile:
        from torch.profiler import ProfilerActivity, profile
        model.train()
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            step()
        print(f"train step ({args.optimizer}, batch {args.batch}):", file=sys.stderr)
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25), file=sys.stderr)
        model.eval()
        with torch.no_grad(), profile(activities=[ProfilerActivity.CPU]) as prof:
            model(xb)
        print(f"inference (batch {args.infer_batch}):", file=sys.stderr)
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15), file=sys.stderr)

    print(json.dumps({
        "engine": f"pytorch {torch.__version__}", "cpu": cpu_model(),
        "isa": onednn_isa(), "aten_isa": aten_isa(), "threads": torch.get_num_threads(),
        "batch": args.batch, "optimizer": args.optimizer, "padding": args.padding,
        # Keras counts BatchNorm's moving mean and variance as parameters; PyTorch keeps them as buffers.
        "parameters": sum(p.numel() for p in model.parameters())
        + sum(b.numel() for n, b in model.named_buffers() if n.endswith(("running_mean", "running_var"))),
        "warmup": args.warmup, "steps": args.steps, "infer_batch": args.infer_batch, "infer_repeats": args.infer_repeats,
        "train_images_per_s": round(train_ips, 1),
        "epoch_60k_s": round(60000 / train_ips, 1),
        "infer_images_per_s": round(infer_ips, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }))


if __name__ == "__main__":
    main()
