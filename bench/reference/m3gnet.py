#!/usr/bin/python3
"""Independent PyTorch (autograd, float64) reference of the M3GNet-MP-2021.2.8-PES potential
(Chen & Ong, Nat. Comput. Sci. 2, 718 (2022); hyper-parameters from the matgl model.json),
written from the paper and the published state_dict layout, to check kldm's TypeScript port
(src/potential/). Energies in eV, forces -dE/dx in eV/Å, stress (1/V) dE/d(strain) in eV/Å^3
(ASE sign; x 160.21766208 for GPa as matgl reports).

Neighbours come from pymatgen's find_points_in_spheres (what matgl uses), so the edge list and
its order are matgl's; three-body triples are built per centre atom from the bonds within 4 Å.
`--matgl-indexing` reproduces matgl's pruned-list slip (triples numbered against the bonds
<= 4 Å but applied to the full bond list) so the size of that slip can be measured.

Subcommands (Debian python3-torch + python3-pymatgen; none is needed by kldm's tests or CI):
  stats      names, shapes, sums of every tensor of state.pt -> src/potential/fixtures/m3gnet_state_stats.json
  tiny-pt    a tiny torch.save state_dict with strided views -> src/potential/fixtures/tiny_state.{pt,json}
  published  energies of matgl's own test structures (CsCl-type MoS, the AcAla3NHMe peptide)
  fixture    energies/forces/stresses of MP-20 test structures -> bench/reference/fixtures/m3gnet_mp20.json

Run: /usr/bin/python3 bench/reference/m3gnet.py fixture --weights ../shared/reference/m3gnet/state.pt
"""
import argparse
import collections
import csv
import gzip
import io
import json
import math
import os
import sys

import numpy as np
import torch

torch.set_default_dtype(torch.float64)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_WEIGHTS = os.path.join(REPO, "..", "shared", "reference", "m3gnet", "state.pt")
DEFAULT_MODEL_JSON = os.path.join(REPO, "..", "shared", "reference", "m3gnet", "model.json")

CUTOFF = 5.0
THREEBODY_CUTOFF = 4.0
MAX_N = 3
MAX_L = 3
NBLOCKS = 3


# --- basis functions (paper eq. 1-3) -------------------------------------------------------
def spherical_jn(l, x):
    """Spherical Bessel functions of the first kind j_0..j_3 (Rayleigh closed forms)."""
    s, c = torch.sin(x), torch.cos(x)
    if l == 0:
        return s / x
    if l == 1:
        return s / x**2 - c / x
    if l == 2:
        return (3 / x**3 - 1 / x) * s - 3 * c / x**2
    if l == 3:
        return (15 / x**4 - 6 / x**2) * s - (15 / x**3 - 1 / x) * c
    raise ValueError(l)


def spherical_jn_roots(max_l, max_n):
    """z[l][n]: n-th positive zero of j_l, by bisection between the zeros of j_{l-1} (interlacing)."""
    def f(l, x):
        return float(spherical_jn(l, torch.tensor(x)))
    zeros = [math.pi * k for k in range(1, max_l + max_n + 1)]
    roots = [zeros[:max_n]]
    for l in range(1, max_l):
        nxt = []
        for j in range(len(zeros) - 1):
            lo, hi = zeros[j], zeros[j + 1]
            flo = f(l, lo)
            for _ in range(200):
                mid = 0.5 * (lo + hi)
                fm = f(l, mid)
                if (fm < 0) == (flo < 0):
                    lo, flo = mid, fm
                else:
                    hi = mid
            nxt.append(0.5 * (lo + hi))
        zeros = nxt
        roots.append(zeros[:max_n])
    return roots


ROOTS = spherical_jn_roots(MAX_L + 1, MAX_N)


def sbf(r, cutoff):
    """Spherical Bessel radial basis, columns l-major: j_l(z_ln r / rc) sqrt(2/rc^3) / |j_{l+1}(z_ln)|."""
    r = torch.clamp(r, max=cutoff)
    cols = []
    for l in range(MAX_L):
        for n in range(MAX_N):
            z = ROOTS[l][n]
            norm = math.sqrt(2.0 / cutoff**3) / abs(float(spherical_jn(l + 1, torch.tensor(z))))
            cols.append(spherical_jn(l, r * z / cutoff) * norm)
    return torch.stack(cols, dim=1)


def y_l0(cos_t):
    """Real spherical harmonics Y_l^0, l = 0..2."""
    return torch.stack([
        torch.full_like(cos_t, 0.5 * math.sqrt(1 / math.pi)),
        math.sqrt(3 / (4 * math.pi)) * cos_t,
        math.sqrt(5 / (16 * math.pi)) * (3 * cos_t**2 - 1),
    ], dim=1)


def envelope(r, cutoff):
    """Polynomial cutoff 1 - 10 x^3 + 15 x^4 - 6 x^5 (x = r/rc), zero beyond rc."""
    x = r / cutoff
    return torch.where(r <= cutoff, 1 - 10 * x**3 + 15 * x**4 - 6 * x**5, torch.zeros_like(r))


# --- the model -----------------------------------------------------------------------------
def linear(sd, name, x, bias=True):
    y = x @ sd[name + ".weight"].T
    return y + sd[name + ".bias"] if bias else y


def gated_mlp(sd, name, x, n_layers, activate_last, bias=True):
    """layers(x) * gates(x): two stacks of Linear/SiLU, the gate stack ending in a sigmoid."""
    a, g = x, x
    for k in range(n_layers):
        a = linear(sd, f"{name}.layers.{2 * k}", a, bias)
        g = linear(sd, f"{name}.gates.{2 * k}", g, bias)
        if k < n_layers - 1:
            a, g = torch.nn.functional.silu(a), torch.nn.functional.silu(g)
        else:
            if activate_last:
                a = torch.nn.functional.silu(a)
            g = torch.sigmoid(g)
    return a * g


def build_graph(lattice, frac, pbc):
    """Edges i -> j (+ image) within CUTOFF as matgl builds them (no neighbour cap)."""
    if pbc:
        from pymatgen.optimization.neighbors import find_points_in_spheres
        lattice = np.array(lattice, dtype=np.float64)  # pymatgen's matrices are read-only views
        cart = np.ascontiguousarray(frac @ lattice)
        src, dst, images, dist = find_points_in_spheres(
            cart, cart, r=CUTOFF, pbc=np.array([1, 1, 1], dtype=np.int64), lattice=lattice, tol=1e-8)
        keep = (src != dst) | (dist > 1e-8)
        return src[keep].astype(np.int64), dst[keep].astype(np.int64), images[keep].astype(np.float64)
    # molecule: all pairs within the cutoff in (row, col) order, as matgl's CSR adjacency
    d = np.linalg.norm(frac[:, None, :] - frac[None, :, :], axis=-1)
    src, dst = np.nonzero((d <= CUTOFF) & ~np.eye(len(frac), dtype=bool))
    return src.astype(np.int64), dst.astype(np.int64), np.zeros((len(src), 3))


def build_triples(src, dist, matgl_indexing):
    """Ordered bond pairs (a, b), a != b, sharing centre atom src, both <= THREEBODY_CUTOFF.

    Returns full-list bond indices (a, b). With matgl_indexing the indices are positions in the
    pruned (<= 4 Å) list, which matgl then uses to index the full list (its slip)."""
    valid = np.nonzero(dist <= THREEBODY_CUTOFF)[0]
    by_centre = collections.defaultdict(list)
    for pos, e in enumerate(valid):
        by_centre[int(src[e])].append(pos if matgl_indexing else int(e))
    a, b = [], []
    for centre in sorted(by_centre):
        bonds = by_centre[centre]
        for x in bonds:
            for y in bonds:
                if x != y:
                    a.append(x)
                    b.append(y)
    if matgl_indexing:
        # matgl computes the angle and r_ik from the pruned list itself (correct), but the end
        # atom, the cutoff weights and the scatter target index the full list.
        return np.array(a, dtype=np.int64), np.array(b, dtype=np.int64), valid
    return np.array(a, dtype=np.int64), np.array(b, dtype=np.int64), None


def energy(sd, types, lattice, frac, pbc, matgl_indexing=False):
    """Total energy (eV) and the tensors to differentiate: cartesian positions and the strain."""
    n = len(types)
    lat0 = torch.tensor(lattice)
    strain = torch.zeros(3, 3, requires_grad=True)
    deform = torch.eye(3) + strain  # every position and lattice row r -> r (I + strain), as matgl
    lat = lat0 @ deform
    src, dst, images = build_graph(np.asarray(lattice), np.asarray(frac), pbc)
    # molecules: frac holds cartesian coordinates (no lattice)
    cart_leaf = (torch.tensor(frac) @ lat0 if pbc else torch.tensor(frac)).detach().requires_grad_(True)
    pos_used = cart_leaf @ deform
    offs = torch.tensor(images) @ lat
    vec = pos_used[dst] + offs - pos_used[src]
    dist = torch.linalg.norm(vec, dim=1)
    dist_np = dist.detach().numpy()
    rbf = sbf(dist, CUTOFF)
    a, b, valid = build_triples(src, dist_np, matgl_indexing)
    if matgl_indexing:
        pvec, pdist = vec[valid], dist[valid]
        va, vb, rb = pvec[a], pvec[b], pdist[b]
    else:
        va, vb, rb = vec[a], vec[b], dist[b]
    cos_t = (va * vb).sum(1) / (torch.linalg.norm(va, dim=1) * torch.linalg.norm(vb, dim=1))
    cos_t = cos_t.clamp(-1 + 1e-7, 1 - 1e-7)
    sb = sbf(rb, CUTOFF)  # note: matgl's three-body radial basis uses the 5 Å cutoff too
    yl = y_l0(cos_t)
    tb_basis = sb * yl.repeat_interleave(MAX_N, dim=1)
    fc = envelope(dist, THREEBODY_CUTOFF)
    t_src = torch.tensor(src)
    t_dst = torch.tensor(dst)
    ta, tb = torch.tensor(a), torch.tensor(b)
    end_atom = t_dst[tb]
    weight = fc[ta] * fc[tb]

    v = sd["model.embedding.layer_node_embedding.weight"][torch.tensor(types)]
    e = torch.nn.functional.silu(linear(sd, "model.embedding.layer_edge_embedding.layers.0", rbf))
    for k in range(NBLOCKS):
        p = f"model.three_body_interactions.{k}"
        atom_w = torch.sigmoid(linear(sd, f"{p}.update_network_atom.layers.0", v))
        terms = tb_basis * atom_w[end_atom] * weight[:, None]
        nb = torch.zeros(len(src), MAX_N * MAX_L).index_add(0, ta, terms)
        e = e + gated_mlp(sd, f"{p}.update_network_bond", nb, 1, True, bias=False)
        g = f"model.graph_layers.{k}.conv"
        x = torch.cat([v[t_src], v[t_dst], e], dim=1)
        e = e + gated_mlp(sd, f"{g}.edge_update_func", x, 3, True) * (rbf @ sd[f"{g}.edge_weight_func.weight"].T)
        y = torch.cat([v[t_src], v[t_dst], e], dim=1)
        m = gated_mlp(sd, f"{g}.node_update_func", y, 3, True) * (rbf @ sd[f"{g}.node_weight_func.weight"].T)
        v = v + torch.zeros(n, v.shape[1]).index_add(0, t_dst, m)
    atomic = gated_mlp(sd, "model.final_layer.gated", v, 4, False)[:, 0]
    refs = sd["element_refs.property_offset"][torch.tensor(types)]
    total = sd["data_std"] * atomic.sum() + sd["data_mean"] + refs.sum()
    return total, cart_leaf, strain, lat, len(src), len(a)


def evaluate(sd, types, lattice, frac, pbc, matgl_indexing=False):
    total, pos, strain, lat, n_edges, n_triples = energy(sd, types, lattice, frac, pbc, matgl_indexing)
    g_pos, g_strain = torch.autograd.grad(total, [pos, strain])
    out = {"energy": float(total), "forces": (-g_pos).flatten().tolist(), "edges": n_edges, "triples": n_triples}
    if pbc:
        vol = abs(float(torch.det(lat.detach())))
        out["stress"] = (g_strain / vol).flatten().tolist()
    return out


def load_state(path):
    sd = torch.load(path, map_location="cpu")
    return {k: v.to(torch.float64) for k, v in sd.items()}


def element_types():
    with open(DEFAULT_MODEL_JSON) as f:
        return json.load(f)["kwargs"]["model"]["init_args"]["element_types"]


# --- subcommands ---------------------------------------------------------------------------
def cmd_stats(args):
    sd = torch.load(args.weights, map_location="cpu")
    out = {k: {"shape": list(v.shape), "sum": float(v.double().sum()), "sumsq": float((v.double() ** 2).sum()),
               "first": float(v.flatten()[0]), "last": float(v.flatten()[-1])} for k, v in sd.items()}
    path = os.path.join(REPO, "src", "potential", "fixtures", "m3gnet_state_stats.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=0)
    print(f"wrote {path}")


def cmd_tiny_pt(args):
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) * 0.5 - 3.25
    sd = collections.OrderedDict()
    sd["plain"] = torch.tensor([[1.5, -2.25, 3.0], [4.0, 5.5, -6.125]], dtype=torch.float32)
    sd["transposed"] = base.t()  # stride (1, 6), shares storage with base
    sd["slice"] = base[1:3, 2:5]  # storage offset 8, stride (6, 1)
    sd["scalar64"] = torch.tensor(3.141592653589793, dtype=torch.float64)
    sd["ints"] = torch.tensor([-(2**40), 7, 0], dtype=torch.int64)
    d = os.path.join(REPO, "src", "potential", "fixtures")
    torch.save(sd, os.path.join(d, "tiny_state.pt"))
    want = {k: {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape),
                "data": v.contiguous().flatten().tolist()} for k, v in sd.items()}
    with open(os.path.join(d, "tiny_state.json"), "w") as f:
        json.dump(want, f)
    print(f"wrote {d}/tiny_state.pt and tiny_state.json")


MOS = {"lattice": [[4.0, 0, 0], [0, 4.0, 0], [0, 0, 4.0]], "species": ["Mo", "S"], "frac": [[0, 0, 0], [0.5, 0.5, 0.5]]}
# matgl tests/conftest.py AcAla3NHMe (cartesian Å), and its published energy -250.16803 eV
PEPTIDE_SPECIES = "H H H C O C N H C H C C O H H H N H C H C C O H H H N H C H C C O H H H N H C H H H".split()


def peptide_coords():
    with open(os.path.join(HERE, "fixtures", "m3gnet_peptide.json")) as f:
        return json.load(f)["cart"]


def cmd_published(args):
    sd = load_state(args.weights)
    el = element_types()
    mos = evaluate(sd, [el.index(s) for s in MOS["species"]], np.array(MOS["lattice"]), np.array(MOS["frac"]), True)
    print(json.dumps({"MoS": mos["energy"], "published": -10.824362, "stress": mos["stress"], "forces": mos["forces"]}))
    cart = np.array(peptide_coords())
    types = [el.index(s) for s in PEPTIDE_SPECIES]
    ok = evaluate(sd, types, np.eye(3), cart, False)
    slip = evaluate(sd, types, np.eye(3), cart, False, matgl_indexing=True)
    print(json.dumps({"peptide_correct": ok["energy"], "peptide_matgl_indexing": slip["energy"], "published": -250.16803,
                      "edges": ok["edges"], "triples": ok["triples"]}))


def cmd_fixture(args):
    from pymatgen.core import Structure
    sd = load_state(args.weights)
    el = element_types()
    with gzip.open(args.csv, "rt") as f:
        rows = list(csv.DictReader(f))
    rng = np.random.default_rng(args.seed)
    picks = sorted(rng.choice(len(rows), size=args.count, replace=False).tolist())
    out = []
    for k in picks:
        s = Structure.from_str(rows[k]["cif"], fmt="cif")
        lattice = s.lattice.matrix
        frac = s.frac_coords
        rng_s = np.random.default_rng(args.seed + k)
        # a small random displacement so forces and stress are not zero by symmetry
        frac = frac + rng_s.normal(scale=0.02, size=frac.shape) @ np.linalg.inv(lattice)
        species = [site.specie.symbol for site in s]
        types = [el.index(x) for x in species]
        r = evaluate(sd, types, lattice, frac, True)
        slip = evaluate(sd, types, lattice, frac, True, matgl_indexing=True)
        out.append({"material_id": rows[k]["material_id"], "lattice": lattice.flatten().tolist(), "species": species,
                    "frac": frac.flatten().tolist(), "energy": r["energy"], "forces": r["forces"], "stress": r["stress"],
                    "edges": r["edges"], "triples": r["triples"], "energy_matgl_indexing": slip["energy"]})
        print(f"{rows[k]['material_id']}: {len(species)} atoms, E = {r['energy']:.6f} eV, "
              f"matgl indexing {slip['energy'] - r['energy']:+.2e} eV", file=sys.stderr)
    doc = {"about": "M3GNet-MP-2021.2.8-PES float64 PyTorch autograd reference (bench/reference/m3gnet.py fixture); "
                    "MP-20 test structures with 0.02 Å random displacements; energy eV, forces eV/Å, "
                    "stress (1/V) dE/dstrain eV/Å^3 row-major 3x3", "structures": out}
    path = os.path.join(HERE, "fixtures", "m3gnet_mp20.json")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f)
    os.replace(tmp, path)
    print(f"wrote {path}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["stats", "tiny-pt", "published", "fixture"])
    ap.add_argument("--weights", default=DEFAULT_WEIGHTS)
    ap.add_argument("--csv", default=os.path.join(REPO, "..", "shared", "data", "mp_20", "test.reconstructed-no-index.csv.gz"))
    ap.add_argument("--count", type=int, default=12)
    ap.add_argument("--seed", type=int, default=20)
    args = ap.parse_args()
    {"stats": cmd_stats, "tiny-pt": cmd_tiny_pt, "published": cmd_published, "fixture": cmd_fixture}[args.command](args)


if __name__ == "__main__":
    main()
