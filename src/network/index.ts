export { PAPER_CONFIG, countTrainableParams, paramSpecs, edgeInputWidth, type CSPVNetConfig, type ParamSpec } from './config.js';
export { ParamStore, initParams, type ParamTensor } from './params.js';
export { CSPVNet, CSPVNetCore, type NetInputAny, type NetOutputAny, type InputGrads } from './cspvnet.js';
export { AdamW, Ema, PAPER_ADAMW, type AdamWOptions } from './optim.js';
export { buildEdges } from './graph.js';
export { timeFeatures } from './features.js';
export { saveTensors, loadTensors, paramTensors, assignParams, TENSOR_FORMAT_VERSION, type StoredTensor, type LoadedTensors } from './checkpoint.js';
