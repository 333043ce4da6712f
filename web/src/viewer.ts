/**
 * 3D crystal viewer on three.js: unit-cell edges, atoms as spheres coloured by
 * element (Jmol) and sized by covalent radius, rotate/zoom/pan with mouse or
 * keyboard, cell repeats 1x1x1..3x3x3, optional velocity arrows for
 * trajectory frames. Renders on demand (no idle animation loop).
 *
 * Generation trajectories change the atom types from frame to frame (a frame
 * may carry its own species); an atom whose type is still masked ("X", the
 * masking diffusion of spec §5.3) is drawn as a translucent grey "ghost"
 * sphere of a fixed size, so that it reads as "not decided yet" rather than
 * as an element.
 */
import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import { elementBySymbol, isElementSymbol } from '../../src/crystal/elements.js';
import { elementColor } from './colors.js';

export interface ViewFrame {
  lattice: number[];
  frac: number[];
  vel?: number[];
  /** the species of this frame when they change along the trajectory (generation); default: the structure's */
  species?: string[];
}

const RADIUS_SCALE = 0.5;

/** symbol of an atom whose type is still masked in a generation frame (src/predict/frames.ts) */
export const MASKED = 'X';
const MASKED_COLOR = '#b8bec9';
/** Å: between the covalent radii of light and heavy elements, so a ghost neither hides nor vanishes */
const MASKED_RADIUS = 1.1;

function radiusOf(symbol: string): number {
  if (symbol === MASKED) return MASKED_RADIUS * RADIUS_SCALE;
  const r = isElementSymbol(symbol) ? elementBySymbol(symbol).covalentRadius : null;
  return (r ?? 1.5) * RADIUS_SCALE;
}

export function colorOf(symbol: string): string {
  if (symbol === MASKED) return MASKED_COLOR;
  return isElementSymbol(symbol) ? elementColor(elementBySymbol(symbol).Z) : '#ff1493';
}

function sameSpecies(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

export class CrystalViewer {
  readonly canvas: HTMLCanvasElement;
  private readonly renderer: THREE.WebGLRenderer;
  private readonly scene = new THREE.Scene();
  private readonly camera: THREE.PerspectiveCamera;
  private readonly controls: OrbitControls;
  private readonly content = new THREE.Group();
  private species: string[] = [];
  private repeat = 1;
  private showVelocities = false;
  private frame: ViewFrame | null = null;
  private meshes = new Map<string, THREE.InstancedMesh>();
  private cellLines: THREE.LineSegments | null = null;
  private arrows = new THREE.Group();
  private readonly sphere = new THREE.SphereGeometry(1, 24, 16);
  private framed = false;

  constructor(private readonly container: HTMLElement) {
    this.canvas = document.createElement('canvas');
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute(
      'aria-label',
      '3D crystal view. Arrow keys rotate, Shift+arrows pan, plus and minus zoom, R resets the view.',
    );
    container.appendChild(this.canvas);
    // preserveDrawingBuffer: screenshots and the browser test read the pixels back
    this.renderer = new THREE.WebGLRenderer({ canvas: this.canvas, antialias: true, preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
    this.scene.background = new THREE.Color('#10141c');
    this.camera = new THREE.PerspectiveCamera(35, 1, 0.1, 2000);
    this.scene.add(new THREE.AmbientLight(0xffffff, 1.2));
    const key = new THREE.DirectionalLight(0xffffff, 2.2);
    key.position.set(1, 2, 3);
    this.camera.add(key);
    this.scene.add(this.camera);
    this.scene.add(this.content);
    this.content.add(this.arrows);
    this.controls = new OrbitControls(this.camera, this.canvas);
    this.controls.enableDamping = false;
    this.controls.addEventListener('change', () => this.render());
    this.canvas.addEventListener('keydown', (e) => this.onKey(e));
    new ResizeObserver(() => this.resize()).observe(container);
    this.resize();
  }

  /** shows a structure (resets the camera when `reframe` or on the first call) */
  setStructure(species: string[], frame: ViewFrame, reframe = true): void {
    const changed = !sameSpecies(species, this.species);
    this.species = [...species];
    if (changed) this.rebuildMeshes();
    this.setFrame(frame);
    if (reframe || !this.framed) this.resetView();
  }

  /** moves atoms and the cell (trajectory playback); a frame with its own species recolours the atoms */
  setFrame(frame: ViewFrame): void {
    if (frame.species && frame.species.length === frame.frac.length / 3 && !sameSpecies(frame.species, this.species)) {
      this.species = [...frame.species];
      this.rebuildMeshes();
    }
    this.frame = frame;
    this.updateGeometry();
    this.render();
  }

  setRepeat(n: number): void {
    this.repeat = Math.max(1, Math.min(3, Math.round(n)));
    this.rebuildMeshes();
    this.updateGeometry();
    this.resetView();
  }

  setShowVelocities(on: boolean): void {
    this.showVelocities = on;
    this.updateGeometry();
    this.render();
  }

  /** the elements on screen with their colours and counts, for the legend (masked atoms last) */
  legend(): { symbol: string; color: string; radius: number; count: number; masked: boolean }[] {
    const counts = new Map<string, number>();
    for (const s of this.species) counts.set(s, (counts.get(s) ?? 0) + 1);
    return [...counts]
      .map(([symbol, count]) => ({ symbol, color: colorOf(symbol), radius: radiusOf(symbol) / RADIUS_SCALE, count, masked: symbol === MASKED }))
      .sort((a, b) => Number(a.masked) - Number(b.masked));
  }

  /** the species on screen (those of the last frame shown) */
  currentSpecies(): readonly string[] {
    return this.species;
  }

  resetView(): void {
    if (!this.frame) return;
    const L = this.frame.lattice;
    const n = this.repeat;
    const centre = new THREE.Vector3(L[0]! + L[3]! + L[6]!, L[1]! + L[4]! + L[7]!, L[2]! + L[5]! + L[8]!).multiplyScalar(n / 2);
    // bounding sphere of the supercell: half the longest of its four body diagonals
    const a = new THREE.Vector3(L[0]!, L[1]!, L[2]!).multiplyScalar(n);
    const b = new THREE.Vector3(L[3]!, L[4]!, L[5]!).multiplyScalar(n);
    const c = new THREE.Vector3(L[6]!, L[7]!, L[8]!).multiplyScalar(n);
    const radius =
      0.5 *
      Math.max(
        a.clone().add(b).add(c).length(),
        a.clone().add(b).sub(c).length(),
        a.clone().sub(b).add(c).length(),
        b.clone().add(c).sub(a).length(),
      ) +
      1.0;
    const halfFov = (this.camera.fov * Math.PI) / 360;
    const fitFov = this.camera.aspect >= 1 ? halfFov : Math.atan(Math.tan(halfFov) * this.camera.aspect);
    const dist = (radius / Math.sin(fitFov)) * 1.02;
    this.controls.target.copy(centre);
    this.camera.position.copy(centre).add(new THREE.Vector3(0.9, 0.55, 1.3).normalize().multiplyScalar(dist));
    this.camera.near = dist / 100;
    this.camera.far = dist * 10;
    this.camera.updateProjectionMatrix();
    this.controls.update();
    this.framed = true;
    this.render();
  }

  render(): void {
    this.renderer.render(this.scene, this.camera);
  }

  private resize(): void {
    const w = Math.max(1, this.container.clientWidth);
    const h = Math.max(1, this.container.clientHeight);
    this.renderer.setSize(w, h, false);
    this.canvas.style.width = '100%';
    this.canvas.style.height = '100%';
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    this.render();
  }

  private rebuildMeshes(): void {
    for (const m of this.meshes.values()) {
      this.content.remove(m);
      (m.material as THREE.Material).dispose();
      m.dispose();
    }
    this.meshes.clear();
    const copies = this.repeat ** 3;
    const counts = new Map<string, number>();
    for (const s of this.species) counts.set(s, (counts.get(s) ?? 0) + 1);
    for (const [symbol, count] of counts) {
      const material =
        symbol === MASKED
          ? new THREE.MeshStandardMaterial({ color: colorOf(symbol), roughness: 0.9, metalness: 0, transparent: true, opacity: 0.35, depthWrite: false })
          : new THREE.MeshStandardMaterial({ color: colorOf(symbol), roughness: 0.45, metalness: 0.1 });
      const mesh = new THREE.InstancedMesh(this.sphere, material, count * copies);
      mesh.name = symbol;
      this.meshes.set(symbol, mesh);
      this.content.add(mesh);
    }
  }

  private updateGeometry(): void {
    const f = this.frame;
    if (!f) return;
    const L = f.lattice;
    const n = this.repeat;
    const m = new THREE.Matrix4();
    const filled = new Map<string, number>();
    const cart = (x: number, y: number, z: number): THREE.Vector3 =>
      new THREE.Vector3(
        x * L[0]! + y * L[3]! + z * L[6]!,
        x * L[1]! + y * L[4]! + z * L[7]!,
        x * L[2]! + y * L[5]! + z * L[8]!,
      );
    for (let i = 0; i < this.species.length; i++) {
      const symbol = this.species[i]!;
      const mesh = this.meshes.get(symbol)!;
      const r = radiusOf(symbol);
      const fx = f.frac[3 * i]! - Math.floor(f.frac[3 * i]!);
      const fy = f.frac[3 * i + 1]! - Math.floor(f.frac[3 * i + 1]!);
      const fz = f.frac[3 * i + 2]! - Math.floor(f.frac[3 * i + 2]!);
      for (let a = 0; a < n; a++) {
        for (let b = 0; b < n; b++) {
          for (let c = 0; c < n; c++) {
            const p = cart(fx + a, fy + b, fz + c);
            m.makeScale(r, r, r).setPosition(p);
            const k = filled.get(symbol) ?? 0;
            mesh.setMatrixAt(k, m);
            filled.set(symbol, k + 1);
          }
        }
      }
    }
    for (const mesh of this.meshes.values()) {
      mesh.instanceMatrix.needsUpdate = true;
      mesh.computeBoundingSphere();
    }
    // cell edges of every repeated cell
    const pts: number[] = [];
    const edges: [number[], number[]][] = [
      [[0, 0, 0], [1, 0, 0]], [[0, 0, 0], [0, 1, 0]], [[0, 0, 0], [0, 0, 1]],
      [[1, 0, 0], [1, 1, 0]], [[1, 0, 0], [1, 0, 1]], [[0, 1, 0], [1, 1, 0]],
      [[0, 1, 0], [0, 1, 1]], [[0, 0, 1], [1, 0, 1]], [[0, 0, 1], [0, 1, 1]],
      [[1, 1, 0], [1, 1, 1]], [[1, 0, 1], [1, 1, 1]], [[0, 1, 1], [1, 1, 1]],
    ];
    for (let a = 0; a < n; a++) {
      for (let b = 0; b < n; b++) {
        for (let c = 0; c < n; c++) {
          for (const [p, q] of edges) {
            const u = cart(p[0]! + a, p[1]! + b, p[2]! + c);
            const v = cart(q[0]! + a, q[1]! + b, q[2]! + c);
            pts.push(u.x, u.y, u.z, v.x, v.y, v.z);
          }
        }
      }
    }
    if (this.cellLines) {
      this.content.remove(this.cellLines);
      this.cellLines.geometry.dispose();
    }
    const g = new THREE.BufferGeometry();
    g.setAttribute('position', new THREE.Float32BufferAttribute(pts, 3));
    this.cellLines = new THREE.LineSegments(g, new THREE.LineBasicMaterial({ color: 0xc8d0e0 }));
    this.content.add(this.cellLines);
    // velocity arrows (base cell only), lengths normalised to the largest velocity
    for (const child of [...this.arrows.children]) {
      this.arrows.remove(child);
      (child as THREE.ArrowHelper).dispose();
    }
    if (this.showVelocities && f.vel && f.vel.length === f.frac.length) {
      let vmax = 0;
      const vs: THREE.Vector3[] = [];
      // the longest arrow is a third of the shortest cell edge
      const maxArrow = Math.min(Math.hypot(L[0]!, L[1]!, L[2]!), Math.hypot(L[3]!, L[4]!, L[5]!), Math.hypot(L[6]!, L[7]!, L[8]!)) / 3;
      for (let i = 0; i < this.species.length; i++) {
        const v = cart(f.vel[3 * i]!, f.vel[3 * i + 1]!, f.vel[3 * i + 2]!);
        vs.push(v);
        vmax = Math.max(vmax, v.length());
      }
      for (let i = 0; i < vs.length && vmax > 0; i++) {
        const v = vs[i]!;
        const len = (maxArrow * v.length()) / vmax;
        if (len < 1e-3) continue;
        const origin = cart(
          f.frac[3 * i]! - Math.floor(f.frac[3 * i]!),
          f.frac[3 * i + 1]! - Math.floor(f.frac[3 * i + 1]!),
          f.frac[3 * i + 2]! - Math.floor(f.frac[3 * i + 2]!),
        );
        // start at the sphere's surface so that short arrows are not hidden inside the atom
        const dir = v.normalize();
        origin.addScaledVector(dir, radiusOf(this.species[i]!));
        this.arrows.add(new THREE.ArrowHelper(dir, origin, len, 0xffd000, Math.min(0.35 * len, 0.8), Math.min(0.22 * len, 0.5)));
      }
    }
  }

  private onKey(e: KeyboardEvent): void {
    const step = 0.12;
    const offset = this.camera.position.clone().sub(this.controls.target);
    const spherical = new THREE.Spherical().setFromVector3(offset);
    let handled = true;
    if (e.shiftKey && e.key.startsWith('Arrow')) {
      const panX = new THREE.Vector3().setFromMatrixColumn(this.camera.matrix, 0);
      const panY = new THREE.Vector3().setFromMatrixColumn(this.camera.matrix, 1);
      const d = spherical.radius * 0.04;
      const delta = new THREE.Vector3();
      if (e.key === 'ArrowLeft') delta.addScaledVector(panX, -d);
      if (e.key === 'ArrowRight') delta.addScaledVector(panX, d);
      if (e.key === 'ArrowUp') delta.addScaledVector(panY, d);
      if (e.key === 'ArrowDown') delta.addScaledVector(panY, -d);
      this.controls.target.add(delta);
      this.camera.position.add(delta);
    } else if (e.key === 'ArrowLeft' || e.key === 'ArrowRight' || e.key === 'ArrowUp' || e.key === 'ArrowDown') {
      if (e.key === 'ArrowLeft') spherical.theta -= step;
      if (e.key === 'ArrowRight') spherical.theta += step;
      if (e.key === 'ArrowUp') spherical.phi = Math.max(0.05, spherical.phi - step);
      if (e.key === 'ArrowDown') spherical.phi = Math.min(Math.PI - 0.05, spherical.phi + step);
      this.camera.position.copy(this.controls.target).add(new THREE.Vector3().setFromSpherical(spherical));
    } else if (e.key === '+' || e.key === '=') {
      this.camera.position.copy(this.controls.target).add(offset.multiplyScalar(0.9));
    } else if (e.key === '-' || e.key === '_') {
      this.camera.position.copy(this.controls.target).add(offset.multiplyScalar(1.1));
    } else if (e.key === 'r' || e.key === 'R') {
      this.resetView();
    } else {
      handled = false;
    }
    if (handled) {
      e.preventDefault();
      this.controls.update();
      this.render();
    }
  }
}
