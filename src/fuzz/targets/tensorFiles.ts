/**
 * Weights and checkpoints: mutated shipped weight files (models/* /weights.kldm) decoded and loaded
 * into the model's parameter store, and mutated training checkpoints (a real tiny run) read as
 * `kldm train export` / `--resume` read them. Every mutation must be rejected: the checksum
 * catches any changed byte. The "resigned" variants recompute the checksum after mutating, so
 * that the structural checks behind it (header, shapes, offsets, metadata) are fuzzed too.
 */
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeTensors } from '../../network/checkpoint.js';
import { listModels } from '../../predict/registry.js';
import { paramsFromTensors } from '../../training/model.js';
import type { NamedTensor } from '../../training/tensorFile.js';
import { readCheckpoint, train } from '../../training/trainer.js';
import { miniPerov5, tinyConfig } from '../../training/testFixtures.js';
import type { CSPVNetConfig } from '../../network/config.js';
import { shippedWeights } from '../corpus.js';
import { FuzzViolation, type FuzzTarget } from '../harness.js';
import { mutatedBytes } from '../mutate.js';

const KEY = Buffer.from('"sha256":"', 'latin1');

/** Recomputes the checksum of a mutated file when its checksum entry is still findable (the definition of src/network/checkpoint.ts). */
export function resign(buf: Uint8Array): Uint8Array {
  const b = Buffer.from(buf);
  if (b.length < 8) return b;
  const n = b.readBigUInt64LE(0);
  if (n > BigInt(b.length - 8)) return b;
  const k = b.subarray(8, 8 + Number(n)).lastIndexOf(KEY);
  if (k < 0) return b;
  const at = 8 + k + KEY.length;
  if (at + 64 > b.length) return b;
  const digest = createHash('sha256').update(b.subarray(0, at)).update('0'.repeat(64), 'latin1').update(b.subarray(at + 64)).digest('hex');
  b.write(digest, at, 'latin1');
  return b;
}

function toMap(tensors: Record<string, { shape: number[]; data: Float32Array }>): Map<string, NamedTensor> {
  return new Map(Object.entries(tensors).map(([name, t]) => [name, { name, shape: t.shape, data: t.data }]));
}

let netConfigs: Map<string, CSPVNetConfig> = new Map();

function weightsTarget(resigned: boolean): FuzzTarget<{ model: number; bytes: Uint8Array }> {
  return {
    name: resigned ? 'weights-resigned' : 'weights',
    description: `mutated shipped weights${resigned ? ' with the checksum recomputed' : ''}: decodeTensors + paramsFromTensors (the model's parameter store)`,
    setup() {
      netConfigs = new Map(listModels().map(({ manifest }) => [manifest.name, manifest.netConfig]));
      shippedWeights();
    },
    arbitrary: () => {
      const files = shippedWeights();
      return fc.nat({ max: files.length - 1 }).chain((model) =>
        mutatedBytes([files[model]!.bytes]).map((bytes) => ({ model, bytes: resigned ? resign(bytes) : bytes })),
      );
    },
    run({ model, bytes }) {
      const file = shippedWeights()[model]!;
      const { tensors } = decodeTensors(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), file.path);
      paramsFromTensors(netConfigs.get(file.name)!, toMap(tensors), false, file.path);
      if (!resigned && !Buffer.from(bytes).equals(file.bytes)) throw new FuzzViolation('a changed weights file was accepted');
    },
    show: ({ model, bytes }) => `model ${model}, ${bytes.length} bytes`,
  };
}

export const weightsFuzzTarget = weightsTarget(false);
export const weightsResignedFuzzTarget = weightsTarget(true);

let checkpointBytes: Buffer | null = null;
let scratch = '';

function checkpointTarget(resigned: boolean): FuzzTarget<Uint8Array> {
  return {
    name: resigned ? 'checkpoint-resigned' : 'checkpoint',
    description: `mutated training checkpoint of a real tiny run${resigned ? ' with the checksum recomputed' : ''}: readCheckpoint + paramsFromTensors (EMA preferred, as export does)`,
    async setup() {
      scratch = mkdtempSync(join(tmpdir(), 'kldm-fuzz-ckpt-'));
      if (!checkpointBytes) {
        const data = miniPerov5();
        const config = tinyConfig({ optim: { batchSize: 8 }, schedule: { maxEpochs: -1, emaStartEpoch: 0 }, validation: { everyEpochs: 1, lossSubset: 8, matchSubset: 0 } });
        const runDir = join(scratch, 'run');
        await train({ dataset: 'perov_5', config, runDir, seed: 1, maxSteps: 5, train: data.train, val: data.val, stats: data.stats, statusStream: null });
        checkpointBytes = readFileSync(join(runDir, 'last.ckpt'));
      }
    },
    teardown() {
      rmSync(scratch, { recursive: true, force: true });
    },
    arbitrary: () => mutatedBytes([checkpointBytes!]).map((b) => (resigned ? resign(b) : b)),
    run(bytes) {
      const path = join(scratch, 'fuzz.ckpt');
      writeFileSync(path, bytes);
      const { meta, tensors } = readCheckpoint(path);
      paramsFromTensors(meta.netConfig, tensors, true, path);
      if (!resigned && !Buffer.from(bytes).equals(checkpointBytes!)) throw new FuzzViolation('a changed checkpoint was accepted');
    },
    show: (b) => `${b.length} bytes`,
  };
}

export const checkpointFuzzTarget = checkpointTarget(false);
export const checkpointResignedFuzzTarget = checkpointTarget(true);
