import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PumerError } from '@pumer/core';
import { hasSharedData, sharedPath } from '@pumer/testkit/node';
import { afterAll, describe, expect, it } from 'vitest';
import type { CheckpointTensor } from '../checkpoint/tensors.js';
import { readSafetensors, type TensorToWrite, writeSafetensors } from '../safetensors.js';
import { torchSave } from '../testing/torch-save.js';
import { defaultModelDir } from './assets.js';
import { loadVilt } from './load.js';

const FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'preprocessor_config.json'];
const scratch = mkdtempSync(join(tmpdir(), 'pumer-vilt-load-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of the bundled checkpoint with some files replaced. */
function variant(name: string, replace: Record<string, Uint8Array | string | null>): string {
  const out = mkdtempSync(join(scratch, `${name}-`));
  for (const f of new Set([...FILES, ...Object.keys(replace)])) {
    if (f in replace) {
      const v = replace[f];
      if (v !== null) writeFileSync(join(out, f), v);
    } else {
      copyFileSync(join(defaultModelDir(), f), join(out, f));
    }
  }
  return out;
}

function loadError(dir: string, code: string): PumerError {
  try {
    loadVilt(dir);
  } catch (err) {
    expect(err).toBeInstanceOf(PumerError);
    expect((err as PumerError).code).toBe(code);
    return err as PumerError;
  }
  throw new Error('expected a PumerError');
}

const original = readSafetensors(readFileSync(join(defaultModelDir(), 'model.safetensors')));
function weightsWith(edit: (m: Map<string, TensorToWrite>) => void): Uint8Array {
  const m = new Map<string, TensorToWrite>(original.tensors);
  edit(m);
  return writeSafetensors(m);
}

describe('loadVilt', () => {
  it('loads the bundled checkpoint with every weight mapped and a stable id', () => {
    const a = loadVilt(defaultModelDir());
    const b = loadVilt(defaultModelDir());
    expect(a.model.id).toBe(b.model.id);
    expect(a.model.id).toMatch(/model\.safetensors:1350792:/);
    expect(a.model.weights.layers).toHaveLength(6);
    expect(a.model.weights.imagePositionEmbeddings.shape).toEqual([65, 64]);
    expect(a.model.weights.clsToken.shape).toEqual([64]);
    expect(a.model.weights.patchProjection.weight.shape).toEqual([64, 3, 8, 8]);
    expect(a.model.task).toBe('vqa');
    expect(a.model.weights.head).toMatchObject({ kind: 'classifier', norm: { eps: 1e-5 } });
    expect(a.model.weights.finalNorm.eps).toBe(1e-12);
    expect(a.reduction?.reduceLayers).toEqual([1, 3]);
    const q = original.tensors.get('vilt.encoder.layer.2.attention.attention.query.weight');
    expect(a.model.weights.layers[2].query.weight.data).toEqual(q?.data);
  });

  it('names a tensor whose shape disagrees with config.json', () => {
    const dir = variant('bad-shape', {
      'model.safetensors': weightsWith((m) => {
        m.set('vilt.encoder.layer.3.intermediate.dense.weight', {
          shape: [128, 64],
          data: new Float32Array(128 * 64),
        });
      }),
    });
    expect(loadError(dir, 'CHECKPOINT').message).toMatch(
      /tensor "vilt.encoder.layer.3.intermediate.dense.weight" has shape \[128, 64\], but config.json implies \[256, 64\]/,
    );
  });

  it('names a missing tensor', () => {
    const dir = variant('missing-tensor', {
      'model.safetensors': weightsWith((m) => m.delete('classifier.3.bias')),
    });
    expect(loadError(dir, 'CHECKPOINT').message).toMatch(/missing tensor "classifier.3.bias"/);
  });

  it('refuses tensors the model does not read: a num_hidden_layers below the layers the weights hold', () => {
    const cfg = JSON.parse(readFileSync(join(defaultModelDir(), 'config.json'), 'utf8'));
    const dir = variant('fewer-layers', { 'config.json': JSON.stringify({ ...cfg, num_hidden_layers: 4 }) });
    const message = loadError(dir, 'CHECKPOINT').message;
    expect(message).toMatch(
      /model.safetensors: 32 tensor\(s\) the model does not use: the weights hold layers up to 5, but config.json "num_hidden_layers" is 4 \("vilt.encoder.layer.4./,
    );
    expect(message).toContain('(32 in all)');
  });

  it('refuses a tensor of another head, naming it', () => {
    const dir = variant('extra-head', {
      'model.safetensors': weightsWith((m) =>
        m.set('rank_output.weight', { shape: [1, 64], data: new Float32Array(64) }),
      ),
    });
    expect(loadError(dir, 'CHECKPOINT').message).toMatch(
      /model.safetensors: 1 tensor\(s\) the model does not use \("rank_output.weight"\)$/,
    );
  });

  it('refuses a tokenizer whose ids run past the word-embedding table', () => {
    const tok = JSON.parse(readFileSync(join(defaultModelDir(), 'tokenizer.json'), 'utf8'));
    const big = { ...tok, model: { ...tok.model, vocab: { ...tok.model.vocab, zebra: 31 } } };
    expect(
      loadError(variant('tokenizer-past-vocab', { 'tokenizer.json': JSON.stringify(big) }), 'TOKENIZER')
        .message,
    ).toMatch(
      /tokenizer.json has token ids up to 31, but the model's word-embedding table has 31 rows \(config.json "vocab_size"\)/,
    );
  });

  it('reads a config.json field that is missing as its transformers default, which the weights then refute', () => {
    const cfg = JSON.parse(readFileSync(join(defaultModelDir(), 'config.json'), 'utf8'));
    delete cfg.intermediate_size;
    const dir = variant('missing-field', { 'config.json': JSON.stringify(cfg) });
    expect(loadError(dir, 'CHECKPOINT').message).toMatch(
      /tensor "vilt.encoder.layer.0.intermediate.dense.weight" has shape \[256, 64\], but config.json implies \[3072, 64\]/,
    );
  });

  it('refuses a config.json that fits neither layout, naming what it found', () => {
    const dir = variant('neither', { 'config.json': JSON.stringify({ model_type: 'vilt', num_layers: 6 }) });
    const message = loadError(dir, 'CHECKPOINT').message;
    expect(message).toMatch(/config.json and the weights disagree on the layout/);
    expect(message).toContain('num_layers: 6');
  });

  it('reports missing files, bad JSON, truncated weights and a missing directory', () => {
    expect(loadError(variant('no-tokenizer', { 'tokenizer.json': null }), 'TOKENIZER').message).toMatch(
      /no tokenizer: the checkpoint has no tokenizer.json; pass a tokenizer.json with the tokenizer option/,
    );
    expect(
      loadError(variant('no-preprocessor', { 'preprocessor_config.json': null }), 'CHECKPOINT').message,
    ).toMatch(/preprocessor_config.json is missing: a Hugging Face ViLT checkpoint needs it/);
    expect(
      loadError(variant('bad-json', { 'config.json': '{"hidden_size": 64,' }), 'CHECKPOINT').message,
    ).toMatch(/config.json: not valid JSON/);
    const bytes = readFileSync(join(defaultModelDir(), 'model.safetensors'));
    expect(
      loadError(variant('truncated', { 'model.safetensors': bytes.subarray(0, 100_000) }), 'CHECKPOINT')
        .message,
    ).toMatch(/run past the data section/);
    expect(loadError(join(scratch, 'does-not-exist'), 'CHECKPOINT').message).toMatch(/does not exist/);
  });

  it('loads pytorch_model.bin when there is no model.safetensors, skipping the int64 position_ids buffer', () => {
    const tensors = new Map<string, CheckpointTensor>(original.tensors);
    tensors.set('vilt.embeddings.text_embeddings.position_ids', {
      dtype: 'I64',
      shape: [1, 32],
      data: BigInt64Array.from({ length: 32 }, (_, i) => BigInt(i)),
    });
    const dir = variant('torch-only', { 'model.safetensors': null, 'pytorch_model.bin': torchSave(tensors) });
    const fromTorch = loadVilt(dir);
    expect(fromTorch.model.id).toMatch(/pytorch_model\.bin:\d+:/);
    expect(fromTorch.model.weights).toEqual(loadVilt(defaultModelDir()).model.weights);
  });

  it('prefers model.safetensors when both formats are present', () => {
    const dir = variant('both', { 'pytorch_model.bin': 'PK\x03\x04 not read' });
    expect(loadVilt(dir).model.id).toMatch(/model\.safetensors:1350792:/);
  });

  it('loads a sharded checkpoint from its index, and names a missing shard', () => {
    const names = [...original.tensors.keys()];
    const half = Math.floor(names.length / 2);
    const part = (from: number, to: number) =>
      new Map(names.slice(from, to).map((n) => [n, original.tensors.get(n) as CheckpointTensor]));
    const index = {
      metadata: { total_size: 0 },
      weight_map: Object.fromEntries(
        names.map((n, i) => [
          n,
          i < half ? 'model-00001-of-00002.safetensors' : 'model-00002-of-00002.safetensors',
        ]),
      ),
    };
    const files = {
      'model.safetensors': null,
      'model.safetensors.index.json': JSON.stringify(index),
      'model-00001-of-00002.safetensors': writeSafetensors(part(0, half)),
      'model-00002-of-00002.safetensors': writeSafetensors(part(half, names.length)),
    };
    const sharded = loadVilt(variant('sharded', files));
    expect(sharded.model.id).toMatch(/model\.safetensors\.index\.json:\d+:/);
    expect(sharded.model.weights).toEqual(loadVilt(defaultModelDir()).model.weights);
    const missing = variant('shard-missing', { ...files, 'model-00002-of-00002.safetensors': null });
    expect(loadError(missing, 'CHECKPOINT').message).toMatch(
      /model-00002-of-00002\.safetensors: file not found \(a shard listed in model\.safetensors\.index\.json\)/,
    );
  });

  it('names the directory and every weights file it looked for when there are none', () => {
    const dir = variant('no-weights', { 'model.safetensors': null });
    const message = loadError(dir, 'CHECKPOINT').message;
    expect(message).toContain(`checkpoint directory "${dir}" has no weights`);
    for (const name of [
      'model.safetensors',
      'pytorch_model.bin',
      'model.safetensors.index.json',
      'pytorch_model.bin.index.json',
    ])
      expect(message).toContain(name);
  });

  it('says which weight is not a float tensor', () => {
    const dir = variant('int-weight', {
      'model.safetensors': writeSafetensors(
        new Map(
          [...original.tensors].map(([k, t]) => [
            k,
            k === 'classifier.3.bias' ? { shape: t.shape, data: new Int32Array(t.data.length) } : t,
          ]),
        ),
      ),
    });
    expect(loadError(dir, 'CHECKPOINT').message).toMatch(
      /model.safetensors: tensor "classifier.3.bias" has dtype I32, but a floating-point weight is expected/,
    );
  });
});

describe.skipIf(!hasSharedData('real', 'vqa', 'pytorch_model.bin'))(
  'loadVilt on the Hugging Face reference checkpoint',
  () => {
    // vqa/ ships the legacy preprocessor form (`"size": 384`); retrieval/'s ViltImageProcessor form gives the
    // same pixels, so it stands in here: what is under test is the weights.
    function realVqa(weightsFile: string): string {
      const dir = mkdtempSync(join(scratch, `real-${weightsFile}-`));
      for (const f of ['config.json', 'tokenizer.json', weightsFile])
        copyFileSync(sharedPath('real', 'vqa', f), join(dir, f));
      copyFileSync(
        sharedPath('real', 'retrieval', 'preprocessor_config.json'),
        join(dir, 'preprocessor_config.json'),
      );
      return dir;
    }

    it('loads the same weights from model.safetensors and from pytorch_model.bin', () => {
      const st = loadVilt(realVqa('model.safetensors'));
      const pt = loadVilt(realVqa('pytorch_model.bin'));
      expect(st.model.weights.layers).toHaveLength(2);
      expect(pt.model.weights).toEqual(st.model.weights);
    });
  },
);
