/**
 * pymatgen `VoronoiNN(weight="solid_angle", cutoff=7)` for one site of a periodic structure, as CrystalNN
 * calls it (spec §10.1, structural fingerprint). Every periodic image within the cutoff sphere takes part;
 * the neighbours are the sites whose bisector plane bounds the centre's Voronoi cell, each with the face's
 * solid angle and area. If the cell is open within the sphere, pymatgen doubles the cutoff (capped at the
 * longest cell diagonal + 0.01 Å) and retries; so does this.
 */
import type { Matrix3, Structure } from '../../crystal/types.js';
import { fracToCart, reciprocal } from '../../crystal/lattice.js';
import { polygonArea, polygonSolidAngle, voronoiCellOfOrigin, type Vec3 } from './voronoiCell.js';

export interface VoronoiNeighbour {
  /** index of the neighbour's site in the structure */
  site: number;
  /** Cartesian position of the neighbour image relative to the centre site (Å) */
  offset: Vec3;
  /** distance to the centre (Å) */
  distance: number;
  /** solid angle of the shared Voronoi face (sr) */
  solidAngle: number;
  /** area of the shared Voronoi face (Å²) */
  area: number;
}

/** Half-width (Å) of the box the Voronoi cell is clipped from; a cell reaching it counts as open. */
const BOX_HALF_WIDTH = 1e6;

/** Upper bound on candidate images per site (see imagesInSphere). */
const MAX_IMAGES_SCANNED = 5_000_000;

interface Image {
  site: number;
  offset: Vec3;
  distance: number;
}

/** Every periodic image of every site within `cutoff` of the centre (the centre itself excluded). */
export function imagesInSphere(lattice: Matrix3, cart: Float64Array, centre: number, cutoff: number): Image[] {
  const n = cart.length / 3;
  const rec = reciprocal(lattice); // rows b_i with a_i · b_j = δ_ij
  const reach = [0, 1, 2].map((i) => Math.ceil(cutoff * Math.hypot(rec[3 * i]!, rec[3 * i + 1]!, rec[3 * i + 2]!)) + 1);
  // A degenerate generated cell (tiny volume, atoms on top of each other) would put millions of images in
  // the sphere; no structure with atoms ≥ 0.5 Å apart comes near this bound, so refusing costs nothing real.
  const cells = (2 * reach[0]! + 1) * (2 * reach[1]! + 1) * (2 * reach[2]! + 1);
  if (!(cells * n <= MAX_IMAGES_SCANNED)) throw new Error(`${cells * n} periodic images to scan within ${cutoff.toFixed(1)} Å (degenerate cell)`);
  const c: Vec3 = [cart[3 * centre]!, cart[3 * centre + 1]!, cart[3 * centre + 2]!];
  const out: Image[] = [];
  const tol = 1e-8; // pymatgen's get_points_in_sphere keeps points up to r + 1e-8
  for (let i = -reach[0]!; i <= reach[0]!; i++) {
    for (let j = -reach[1]!; j <= reach[1]!; j++) {
      for (let k = -reach[2]!; k <= reach[2]!; k++) {
        const tx = i * lattice[0] + j * lattice[3] + k * lattice[6];
        const ty = i * lattice[1] + j * lattice[4] + k * lattice[7];
        const tz = i * lattice[2] + j * lattice[5] + k * lattice[8];
        for (let s = 0; s < n; s++) {
          if (s === centre && i === 0 && j === 0 && k === 0) continue;
          const dx = cart[3 * s]! + tx - c[0];
          const dy = cart[3 * s + 1]! + ty - c[1];
          const dz = cart[3 * s + 2]! + tz - c[2];
          const d = Math.hypot(dx, dy, dz);
          if (d <= cutoff + tol) out.push({ site: s, offset: [dx, dy, dz], distance: d });
        }
      }
    }
  }
  return out;
}

/** The origin and three points on one plane (qhull: "initial simplex is flat"). */
function coplanar(a: Vec3, b: Vec3, c: Vec3): boolean {
  const det = a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0]) + a[2] * (b[0] * c[1] - b[1] * c[0]);
  return Math.abs(det) <= 1e-10 * Math.hypot(...a) * Math.hypot(...b) * Math.hypot(...c);
}

/** Longest body diagonal of the cell + 0.01 Å: pymatgen's ceiling for the growing cutoff. */
function maxCutoff(lattice: Matrix3): number {
  let best = 0;
  for (const [x, y, z] of [[1, 1, 1], [-1, 1, 1], [1, -1, 1], [1, 1, -1]] as const) {
    best = Math.max(best, Math.hypot(
      x * lattice[0] + y * lattice[3] + z * lattice[6],
      x * lattice[1] + y * lattice[4] + z * lattice[7],
      x * lattice[2] + y * lattice[5] + z * lattice[8],
    ));
  }
  return best + 0.01;
}

/**
 * Voronoi neighbours of site `centre` with solid angles and face areas (faces of zero solid angle dropped,
 * as pymatgen's `weight > tol·max` with tol = 0 does). Throws when no closed cell is found.
 */
export function voronoiNeighbours(s: Structure, centre: number, cutoff = 7, cart?: Float64Array): VoronoiNeighbour[] {
  const xyz = cart ?? fracToCart(s.lattice, s.frac);
  const ceiling = maxCutoff(s.lattice);
  let r = cutoff;
  for (;;) {
    const images = imagesInSphere(s.lattice, xyz, centre, r);
    // qhull (scipy, with pymatgen's options) given exactly 4 points in general position returns no ridge
    // for the centre, and pymatgen raises "No Voronoi neighbors found" without retrying; with fewer points,
    // or 4 coplanar ones, qhull fails and pymatgen doubles the cutoff (an open cell does the same below).
    if (images.length === 3 && !coplanar(images[0]!.offset, images[1]!.offset, images[2]!.offset)) {
      throw new Error(`no Voronoi neighbours found for site ${centre} (only 3 other atoms within ${r.toFixed(2)} Å)`);
    }
    if (images.length > 3) {
      // qhull accepts any bounded cell of the points in the sphere, however far its vertices lie (a site
      // near the sphere's convex hull can have vertices thousands of Å away; pymatgen then keeps that
      // cell and does not grow the cutoff), so the clipping box must be far larger than the sphere.
      const offsets = images.map((im) => im.offset);
      let cell = voronoiCellOfOrigin(offsets, BOX_HALF_WIDTH);
      if (cell.bounded) {
        // again from a box just around the cell: vertices cut from the 1e6 Å box carry ~1e-10 Å of rounding
        let reach = 0;
        for (const f of cell.faces) for (const v of f.vertices) reach = Math.max(reach, Math.hypot(v[0], v[1], v[2]));
        const tight = voronoiCellOfOrigin(offsets, 2 * reach + 1);
        if (tight.bounded) cell = tight;
        const out: VoronoiNeighbour[] = [];
        for (const f of cell.faces) {
          const im = images[f.neighbour]!;
          const solidAngle = polygonSolidAngle(f.vertices);
          if (!(solidAngle > 0)) continue;
          out.push({ site: im.site, offset: im.offset, distance: im.distance, solidAngle, area: polygonArea(f.vertices) });
        }
        if (out.length === 0) throw new Error(`no Voronoi neighbours found for site ${centre}`);
        return out;
      }
    }
    if (r >= ceiling) throw new Error(`Voronoi cell of site ${centre} is open even at the maximum cutoff ${ceiling.toFixed(2)} Å`);
    r = Math.min(2 * r, ceiling + 0.001);
  }
}
