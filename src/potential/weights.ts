/**
 * M3GNet-MP-2021.2.8-PES: hyper-parameters (matgl model.json of that model) and the loader of
 * its state_dict (a PyTorch zip, read by ./torchzip.ts) into float64 arrays with every name
 * and shape checked, so a wrong or damaged file fails with a clear message at load time.
 */
import { InputError } from '../util/errors.js';
import { readTorchStateDict, type TorchTensor } from './torchzip.js';

export interface M3GNetConfig {
  /** element symbols in embedding order (the model's node types) */
  elementTypes: readonly string[];
  /** graph cutoff (Å) */
  cutoff: number;
  /** three-body cutoff (Å) */
  threebodyCutoff: number;
  maxN: number;
  maxL: number;
  nblocks: number;
  /** width of node and edge features and of every hidden layer */
  units: number;
}

/** model.json `init_args` of M3GNet-MP-2021.2.8-PES (use_smooth = use_phi = false, swish, weighted_atom, extensive). */
export const M3GNET_MP_2021_2_8: M3GNetConfig = {
  elementTypes: [
    'H', 'He', 'Li', 'Be', 'B', 'C', 'N', 'O', 'F', 'Ne', 'Na', 'Mg', 'Al', 'Si', 'P', 'S', 'Cl', 'Ar', 'K', 'Ca',
    'Sc', 'Ti', 'V', 'Cr', 'Mn', 'Fe', 'Co', 'Ni', 'Cu', 'Zn', 'Ga', 'Ge', 'As', 'Se', 'Br', 'Kr', 'Rb', 'Sr', 'Y',
    'Zr', 'Nb', 'Mo', 'Tc', 'Ru', 'Rh', 'Pd', 'Ag', 'Cd', 'In', 'Sn', 'Sb', 'Te', 'I', 'Xe', 'Cs', 'Ba', 'La', 'Ce',
    'Pr', 'Nd', 'Pm', 'Sm', 'Eu', 'Gd', 'Tb', 'Dy', 'Ho', 'Er', 'Tm', 'Yb', 'Lu', 'Hf', 'Ta', 'W', 'Re', 'Os', 'Ir',
    'Pt', 'Au', 'Hg', 'Tl', 'Pb', 'Bi', 'Ac', 'Th', 'Pa', 'U', 'Np', 'Pu',
  ],
  cutoff: 5,
  threebodyCutoff: 4,
  maxN: 3,
  maxL: 3,
  nblocks: 3,
  units: 64,
};

/** A dense layer y = x W^T (+ b), W row-major (out x in) as PyTorch stores it. */
export interface LinearWeights {
  in: number;
  out: number;
  weight: Float64Array;
  bias: Float64Array | null;
}

/** matgl's GatedMLP: a Linear/SiLU stack times sigmoid of a parallel Linear/SiLU gate stack. */
export interface GatedMLPWeights {
  layers: LinearWeights[];
  gates: LinearWeights[];
  /** whether the value stack ends in SiLU (the gate stack always ends in a sigmoid) */
  activateLast: boolean;
}

export interface M3GNetBlockWeights {
  /** three-body: sigmoid(W v + b), node features -> one weight per basis column */
  threeBodyAtom: LinearWeights;
  /** three-body: gated MLP (no bias) from the summed basis to an edge-feature update */
  threeBodyBond: GatedMLPWeights;
  edgeUpdate: GatedMLPWeights;
  edgeWeight: LinearWeights;
  nodeUpdate: GatedMLPWeights;
  nodeWeight: LinearWeights;
}

export interface M3GNetModel {
  config: M3GNetConfig;
  /** (types x units) */
  nodeEmbedding: Float64Array;
  edgeEmbedding: LinearWeights;
  blocks: M3GNetBlockWeights[];
  readout: GatedMLPWeights;
  dataMean: number;
  dataStd: number;
  /** fitted per-element reference energies (eV), one per element type */
  elementRefs: Float64Array;
}

/**
 * Loads the M3GNet potential from a PyTorch state_dict file (the asset store's copy of
 * M3GNet-MP-2021.2.8-PES `model.pt`'s state). The path is explicit: the caller resolves it.
 */
export function loadM3GNet(path: string, config: M3GNetConfig = M3GNET_MP_2021_2_8): M3GNetModel {
  return m3gnetFromStateDict(readTorchStateDict(path), config, path);
}

export function m3gnetFromStateDict(sd: Map<string, TorchTensor>, config: M3GNetConfig, label = 'state_dict'): M3GNetModel {
  const used = new Set<string>();
  const get = (name: string, shape: number[]): Float64Array => {
    const t = sd.get(name);
    if (!t) throw new InputError(`${label}: M3GNet weights lack tensor '${name}'`);
    if (t.dtype === 'int64') throw new InputError(`${label}: tensor '${name}' is int64, expected floating point`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new InputError(`${label}: tensor '${name}' has shape [${t.shape}], expected [${shape}]`);
    }
    used.add(name);
    return Float64Array.from(t.data as Float32Array | Float64Array);
  };
  const linear = (name: string, inDim: number, outDim: number, bias: boolean): LinearWeights => ({
    in: inDim,
    out: outDim,
    weight: get(`${name}.weight`, [outDim, inDim]),
    bias: bias ? get(`${name}.bias`, [outDim]) : null,
  });
  const gated = (name: string, dims: number[], activateLast: boolean, bias = true): GatedMLPWeights => {
    const layers: LinearWeights[] = [], gates: LinearWeights[] = [];
    for (let k = 0; k + 1 < dims.length; k++) {
      layers.push(linear(`${name}.layers.${2 * k}`, dims[k]!, dims[k + 1]!, bias));
      gates.push(linear(`${name}.gates.${2 * k}`, dims[k]!, dims[k + 1]!, bias));
    }
    return { layers, gates, activateLast };
  };
  const u = config.units;
  const nTypes = config.elementTypes.length;
  const degree = config.maxN * config.maxL;
  const scalar = (name: string) => get(name, [])[0]!;
  for (const name of ['model.bond_expansion.rbf.cutoff', 'model.basis_expansion.sbf.cutoff']) {
    const c = scalar(name);
    if (c !== config.cutoff) throw new InputError(`${label}: ${name} is ${c}, the configuration says ${config.cutoff}`);
  }
  const blocks: M3GNetBlockWeights[] = [];
  for (let k = 0; k < config.nblocks; k++) {
    const t = `model.three_body_interactions.${k}`;
    const g = `model.graph_layers.${k}.conv`;
    blocks.push({
      threeBodyAtom: linear(`${t}.update_network_atom.layers.0`, u, degree, true),
      threeBodyBond: gated(`${t}.update_network_bond`, [degree, u], true, false),
      edgeUpdate: gated(`${g}.edge_update_func`, [3 * u, u, u, u], true),
      edgeWeight: linear(`${g}.edge_weight_func`, degree, u, false),
      nodeUpdate: gated(`${g}.node_update_func`, [3 * u, u, u, u], true),
      nodeWeight: linear(`${g}.node_weight_func`, degree, u, false),
    });
  }
  const model: M3GNetModel = {
    config,
    nodeEmbedding: get('model.embedding.layer_node_embedding.weight', [nTypes, u]),
    edgeEmbedding: linear('model.embedding.layer_edge_embedding.layers.0', degree, u, true),
    blocks,
    readout: gated('model.final_layer.gated', [u, u, u, u, 1], false),
    dataMean: scalar('data_mean'),
    dataStd: scalar('data_std'),
    elementRefs: get('element_refs.property_offset', [nTypes]),
  };
  // element_refs.onehot is the identity the reference layer multiplies with; it carries no information.
  used.add('element_refs.onehot');
  const unused = [...sd.keys()].filter((k) => !used.has(k));
  if (unused.length > 0) throw new InputError(`${label}: unexpected tensors for M3GNet: ${unused.slice(0, 5).join(', ')}`);
  return model;
}
