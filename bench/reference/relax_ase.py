"""Relaxation fixture from ASE (Debian python3-ase 3.22.1): FIRE + ExpCellFilter with ASE's
LennardJones calculator (smooth=False) on a few perturbed Lennard-Jones crystals. For each case
it stores the starting structure, single-point energy/forces/stress, the energy and fmax of every
optimiser step, and the relaxed cell, positions and energy. src/relax/relax.test.ts replays the
same relaxations with kldm's FIRE and cell filter and compares step by step.

  /usr/bin/python3 bench/reference/relax_ase.py > src/relax/fixtures/ase_lj_relax.json
"""
import json
import numpy as np
from ase import Atoms
from ase.build import bulk
from ase.calculators.lj import LennardJones
from ase.constraints import ExpCellFilter
from ase.optimize import FIRE

EPS, SIGMA = 0.0104, 3.4
RC = 3 * SIGMA


def case(name, atoms, seed, strain, rattle, fmax, steps):
    rng = np.random.default_rng(seed)
    atoms = atoms.copy()
    cell = atoms.get_cell()[:] @ (np.eye(3) + strain)
    atoms.set_cell(cell, scale_atoms=True)
    atoms.positions += rattle * rng.standard_normal(atoms.positions.shape)
    atoms.calc = LennardJones(epsilon=EPS, sigma=SIGMA, rc=RC, smooth=False)
    start = dict(lattice=atoms.get_cell()[:].reshape(-1).tolist(), frac=atoms.get_scaled_positions(wrap=False).reshape(-1).tolist(),
                 species=atoms.get_chemical_symbols())
    single = dict(energy=float(atoms.get_potential_energy()), forces=atoms.get_forces().reshape(-1).tolist(),
                  stress=atoms.get_stress(voigt=False).reshape(-1).tolist())
    ecf = ExpCellFilter(atoms)
    opt = FIRE(ecf, logfile=None)
    energies, fmaxes = [], []

    def record():
        f = ecf.get_forces()
        energies.append(float(atoms.get_potential_energy()))
        fmaxes.append(float(np.sqrt((f ** 2).sum(axis=1).max())))

    opt.attach(record, interval=1)
    converged = opt.run(fmax=fmax, steps=steps)
    return dict(name=name, start=start, single=single, fmax=fmax, maxSteps=steps, converged=bool(converged), steps=int(opt.nsteps),
                energies=energies, fmaxes=fmaxes,
                final=dict(lattice=atoms.get_cell()[:].reshape(-1).tolist(), frac=atoms.get_scaled_positions(wrap=False).reshape(-1).tolist(),
                           energy=float(atoms.get_potential_energy())))


cases = [
    case('fcc-conventional-expanded', bulk('Ar', 'fcc', a=5.6, cubic=True), 1, 0.0 * np.eye(3), 0.05, 0.01, 400),
    case('fcc-primitive-sheared', bulk('Ar', 'fcc', a=5.1), 2, np.array([[0.03, 0.02, 0], [0.02, -0.02, 0.01], [0, 0.01, 0.04]]), 0.08, 0.01, 400),
    case('sc-2x2x2-compressed', bulk('Ar', 'sc', a=3.6).repeat((2, 2, 2)), 3, -0.02 * np.eye(3), 0.1, 0.02, 60),
]
print(json.dumps(dict(generator='bench/reference/relax_ase.py', ase='3.22.1', epsilon=EPS, sigma=SIGMA, rc=RC, cases=cases)))
