#!/usr/bin/python3
"""PyTorch reference of CSPVNet (kldm spec §2), written from the spec in the
official edge-list style (DiffCSP/KLDM: gather node states onto an explicit edge
list, concatenate the 2H + 6 + 6F + 6F edge input, scatter-mean back).

Two uses (neither is needed by kldm's tests or CI):

  fixture  writes bench/reference/fixtures/cspvnet_tiny.json: a fixed tiny model in
           float64 (weights, inputs, outputs and every gradient of a fixed scalar
           loss), which src/network/reference-fixture.test.ts compares against.
  bench    the PyTorch peer of `npm run bench:engine`: median seconds per training
           step (forward + backward + AdamW/AMSGrad) and per no_grad forward, one JSON line.

Run with Debian's python3-torch: /usr/bin/python3 bench/reference/cspvnet.py fixture
Threads: use OMP_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE (the bench driver sets them).
"""
import argparse
import json
import math
import os
import resource
import statistics
import sys
import time

import torch
from torch import nn


class TimeEmbedding(nn.Module):
    """spec §2.1.1: frozen W_t (D_t/2 x 1) ~ N(0,1), tau = [cos(2 pi W_t t), sin(2 pi W_t t)]."""

    def __init__(self, time_dim):
        super().__init__()
        self.register_buffer("weight", torch.randn(time_dim // 2, 1))

    def forward(self, t):  # t: G x 1
        z = 2 * math.pi * t @ self.weight.T
        return torch.cat([torch.cos(z), torch.sin(z)], dim=1)


def edge_features(pos, src, dst, freqs):
    """spec §2.1.4: psi(p_j - p_i) = [sin(z), cos(z)], z_{d F + k} = delta_d 2 pi k."""
    delta = pos[dst] - pos[src]  # E x 3
    omega = 2 * math.pi * torch.arange(freqs, dtype=pos.dtype)
    z = (delta[:, :, None] * omega[None, None, :]).reshape(delta.shape[0], 3 * freqs)
    return torch.cat([torch.sin(z), torch.cos(z)], dim=1)


def scatter_mean(values, index, size):
    out = torch.zeros(size, values.shape[1], dtype=values.dtype)
    out.index_add_(0, index, values)
    count = torch.zeros(size, dtype=values.dtype).index_add_(0, index, torch.ones_like(index, dtype=values.dtype))
    return out / count.clamp(min=1)[:, None]


class CSPLayer(nn.Module):
    """spec §2.2"""

    def __init__(self, hidden, freqs, ln):
        super().__init__()
        d6 = 6 * freqs
        self.v_proj = nn.Linear(3, d6)
        self.edge_mlp = nn.Sequential(nn.Linear(2 * hidden + 6 + 2 * d6, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU())
        self.node_mlp = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU())
        self.ln = ln
        if ln:
            self.layer_norm = nn.LayerNorm(hidden)

    def forward(self, x, lat_edge, vel, psi, src, dst):
        y = self.layer_norm(x) if self.ln else x
        vfeat = self.v_proj(vel[dst] - vel[src])
        m = self.edge_mlp(torch.cat([y[src], y[dst], lat_edge, vfeat, psi], dim=1))
        mbar = scatter_mean(m, src, x.shape[0])
        return x + self.node_mlp(torch.cat([y, mbar], dim=1))


class CSPVNet(nn.Module):
    """spec §2 (CSP heads v and l)."""

    def __init__(self, hidden=512, time_dim=256, layers=6, freqs=128, num_types=101, ln=True, zero_cog=True):
        super().__init__()
        self.freqs = freqs
        self.zero_cog = zero_cog
        self.ln = ln
        self.node_embedding = nn.Embedding(num_types, hidden)
        self.atom_latent_emb = nn.Linear(hidden + time_dim, hidden)
        self.time_emb = TimeEmbedding(time_dim)
        self.layers = nn.ModuleList([CSPLayer(hidden, freqs, ln) for _ in range(layers)])
        if ln:
            self.final_layer_norm = nn.LayerNorm(hidden)
        self.out_v = nn.Sequential(nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, 3, bias=False))
        self.out_l = nn.Linear(hidden, 6, bias=False)

    def forward(self, t, pos, vel, types, lattice, atom_crystal, src, dst):
        G = t.shape[0]
        tau = self.time_emb(t[:, None])
        x = self.atom_latent_emb(torch.cat([self.node_embedding(types), tau[atom_crystal]], dim=1))
        psi = edge_features(pos, src, dst, self.freqs)
        lat_edge = lattice[atom_crystal[src]]
        for layer in self.layers:
            x = layer(x, lat_edge, vel, psi, src, dst)
        z = self.final_layer_norm(x) if self.ln else x
        v = self.out_v(z)
        if self.zero_cog:
            v = v - scatter_mean(v, atom_crystal, G)[atom_crystal]
        l = self.out_l(scatter_mean(z, atom_crystal, G))
        return v, l


def batch_graph(counts):
    """spec §1.6: ordered pairs i != j within each crystal, row-major."""
    atom_crystal, src, dst = [], [], []
    start = 0
    for g, n in enumerate(counts):
        atom_crystal += [g] * n
        for i in range(start, start + n):
            for j in range(start, start + n):
                if i != j:
                    src.append(i)
                    dst.append(j)
        start += n
    as_long = lambda a: torch.tensor(a, dtype=torch.long)
    return as_long(atom_crystal), as_long(src), as_long(dst)


def random_inputs(counts, gen, dtype):
    n, g = sum(counts), len(counts)
    return dict(
        t=torch.rand(g, generator=gen, dtype=dtype),
        pos=torch.rand(n, 3, generator=gen, dtype=dtype) - 0.5,
        vel=torch.randn(n, 3, generator=gen, dtype=dtype),
        types=torch.randint(1, 95, (n,), generator=gen),
        lattice=torch.randn(g, 6, generator=gen, dtype=dtype),
    )


def flat(x):
    return [float(v) for v in x.detach().reshape(-1).tolist()]


def write_fixture(path):
    torch.manual_seed(20251125)
    torch.set_default_dtype(torch.float64)
    cfg = dict(hidden=8, timeDim=4, layers=2, freqs=3, numTypes=101, layerNorm=True, zeroCog=True)
    net = CSPVNet(cfg["hidden"], cfg["timeDim"], cfg["layers"], cfg["freqs"], cfg["numTypes"], cfg["layerNorm"], cfg["zeroCog"])
    with torch.no_grad():  # non-trivial LayerNorm affine parameters, so their use is checked too
        for name, p in net.named_parameters():
            if "layer_norm" in name:
                p.add_(0.2 * torch.randn_like(p))
    counts = [1, 2, 4, 3]
    gen = torch.Generator().manual_seed(7)
    inp = random_inputs(counts, gen, torch.float64)
    atom_crystal, src, dst = batch_graph(counts)
    for k in ("t", "pos", "vel", "lattice"):
        inp[k].requires_grad_(True)
    v, l = net(inp["t"], inp["pos"], inp["vel"], inp["types"], inp["lattice"], atom_crystal, src, dst)
    rv = torch.randn(v.shape, generator=gen, dtype=torch.float64)
    rl = torch.randn(l.shape, generator=gen, dtype=torch.float64)
    loss = (rv * v).sum() + (rl * l).sum()
    loss.backward()
    state = net.state_dict()
    params = {f"net.{k}": {"shape": list(t.shape), "data": flat(t)} for k, t in state.items()}
    grads = {f"net.{k}": flat(p.grad) for k, p in net.named_parameters()}
    fixture = {
        "_about": "CSPVNet (kldm spec §2) tiny model in float64 from bench/reference/cspvnet.py (PyTorch "
        + torch.__version__ + ", edge-list style); loss = sum(gradV*v) + sum(gradL*l)",
        "config": cfg,
        "counts": counts,
        "inputs": {"t": flat(inp["t"]), "pos": flat(inp["pos"]), "vel": flat(inp["vel"]),
                   "types": [int(x) for x in inp["types"].tolist()], "lattice": flat(inp["lattice"])},
        "params": params,
        "outputs": {"v": flat(v), "l": flat(l)},
        "gradOutputs": {"v": flat(rv), "l": flat(rl)},
        "paramGrads": grads,
        "inputGrads": {k: flat(inp[k].grad) for k in ("t", "pos", "vel", "lattice")},
    }
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def bench(counts, steps, threads, config):
    torch.set_num_threads(threads)
    torch.manual_seed(42)
    net = CSPVNet(config["hidden"], config["timeDim"], config["layers"], config["freqs"], config["numTypes"],
                  config["layerNorm"], config["zeroCog"])
    # spec §8 optimiser
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-12, amsgrad=True)
    gen = torch.Generator().manual_seed(99)
    inp = random_inputs(counts, gen, torch.float32)
    atom_crystal, src, dst = batch_graph(counts)
    rv = 1e-3 * torch.randn(sum(counts), 3, generator=gen)
    rl = 1e-3 * torch.randn(len(counts), 6, generator=gen)
    args = (inp["t"], inp["pos"], inp["vel"], inp["types"], inp["lattice"], atom_crystal, src, dst)

    def step():
        opt.zero_grad(set_to_none=False)
        v, l = net(*args)
        ((rv * v).sum() + (rl * l).sum()).backward()
        opt.step()

    step()  # warm-up
    times, cpu = [], []
    for _ in range(steps):
        c0, t0 = time.process_time(), time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    fwd, fwd_cpu = [], []
    with torch.no_grad():
        net(*args)
        for _ in range(steps):
            c0, t0 = time.process_time(), time.perf_counter()
            net(*args)
            fwd.append(time.perf_counter() - t0)
            fwd_cpu.append(time.process_time() - c0)
    print(json.dumps({
        "engine": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(),
        "crystals": len(counts), "atoms": sum(counts), "edges": int(src.shape[0]),
        "stepMedianS": statistics.median(times), "stepTimesS": times,
        "fwdMedianS": statistics.median(fwd), "fwdTimesS": fwd,
        "stepCpuMedianS": statistics.median(cpu), "fwdCpuMedianS": statistics.median(fwd_cpu),
        "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    fx = sub.add_parser("fixture")
    fx.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "cspvnet_tiny.json"))
    b = sub.add_parser("bench")
    b.add_argument("--counts", required=True, help="atoms per crystal, comma-separated")
    b.add_argument("--steps", type=int, default=5)
    b.add_argument("--threads", type=int, default=2)
    b.add_argument("--config", default='{"hidden":512,"timeDim":256,"layers":6,"freqs":128,"numTypes":101,"layerNorm":true,"zeroCog":true}')
    a = ap.parse_args()
    if a.cmd == "fixture":
        write_fixture(a.out)
    else:
        bench([int(x) for x in a.counts.split(",")], a.steps, a.threads, json.loads(a.config))


if __name__ == "__main__":
    sys.exit(main())
