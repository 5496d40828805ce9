import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PumerError } from '@pumer/core';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../safetensors.js';
import { defaultModelDir } from './assets.js';
import { loadVilt } from './load.js';

const FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'preprocessor_config.json'];
const scratch = mkdtempSync(join(tmpdir(), 'pumer-vilt-load-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of the bundled checkpoint with some files replaced. */
function variant(name: string, replace: Record<string, Uint8Array | string | null>): string {
  const out = mkdtempSync(join(scratch, `${name}-`));
  for (const f of FILES) {
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
function weightsWith(
  edit: (m: Map<string, { shape: readonly number[]; data: Float32Array }>) => void,
): Uint8Array {
  const m = new Map([...original.tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data }]));
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
    expect(a.model.weights.classifier.norm.eps).toBe(1e-5);
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

  it('names a config.json field that is missing', () => {
    const cfg = JSON.parse(readFileSync(join(defaultModelDir(), 'config.json'), 'utf8'));
    delete cfg.intermediate_size;
    const dir = variant('missing-field', { 'config.json': JSON.stringify(cfg) });
    expect(loadError(dir, 'CONFIG').message).toMatch(/config.json: field "intermediate_size" is missing/);
  });

  it('reports missing files, bad JSON, truncated weights and a missing directory', () => {
    expect(loadError(variant('no-tokenizer', { 'tokenizer.json': null }), 'CHECKPOINT').message).toMatch(
      /tokenizer.json: file not found/,
    );
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
});
