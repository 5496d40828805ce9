import { readFileSync } from 'node:fs';
import { PumerError } from '@pumer/core';
import { hasSharedData, sharedPath } from '@pumer/testkit/node';
import { describe, expect, it } from 'vitest';
import { readSafetensors } from '../safetensors.js';
import { PickleBuilder, type TorchTensorSpec, torchSave, torchZip } from '../testing/torch-save.js';
import { readCheckpoint, sniffCheckpointFormat } from './read.js';
import { type CheckpointTensor, encodeTensor } from './tensors.js';
import { readTorchCheckpoint } from './torch-zip.js';

function checkpointError(fn: () => unknown): PumerError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PumerError);
    expect((err as PumerError).code).toBe('CHECKPOINT');
    return err as PumerError;
  }
  throw new Error('expected a PumerError');
}

const f32 = (values: number[]) => encodeTensor('F32', Float32Array.from(values), 't');

function spec(bytes: Uint8Array, shape: number[], extra: Partial<TorchTensorSpec> = {}): TorchTensorSpec {
  return {
    shape,
    storage: { className: 'FloatStorage', key: '0', numel: bytes.length / 4, bytes },
    ...extra,
  };
}

describe.skipIf(!hasSharedData('real', 'vqa', 'pytorch_model.bin'))(
  'torch.save checkpoints of the reference data',
  () => {
    it('pytorch_model.bin and model.safetensors of vqa hold identical tensors', () => {
      const torch = readTorchCheckpoint(readFileSync(sharedPath('real', 'vqa', 'pytorch_model.bin')));
      const st = readSafetensors(readFileSync(sharedPath('real', 'vqa', 'model.safetensors')));
      expect([...torch.tensors.keys()].sort()).toEqual([...st.tensors.keys()].sort());
      expect(torch.tensors.size).toBe(53);
      for (const [name, t] of st.tensors) {
        const u = torch.tensors.get(name) as CheckpointTensor;
        expect(u.dtype, name).toBe(t.dtype);
        expect(u.shape, name).toEqual(t.shape);
        expect(u.data, name).toEqual(t.data);
      }
      const ids = torch.tensors.get('vilt.embeddings.text_embeddings.position_ids');
      expect(ids?.dtype).toBe('I64');
      expect(ids?.shape).toEqual([1, 40]);
      expect(Array.from(ids?.data as BigInt64Array)).toEqual(Array.from({ length: 40 }, (_, i) => BigInt(i)));
    });

    it("reads the paper authors' pytorch_model.bin (OrderedDict with _metadata set by BUILD)", () => {
      const file = readCheckpoint(readFileSync(sharedPath('real', 'authors', 'vqa', 'pytorch_model.bin')));
      const cases = JSON.parse(readFileSync(sharedPath('real', 'authors', 'cases.json'), 'utf8'));
      // Every key, in the file's order.
      expect([...file.tensors.keys()]).toEqual(cases.heads.vqa.state_dict_keys);
      expect(file.tensors.size).toBe(69);
      expect(file.tensors.get('vilt.transformer.blocks.0.attn.qkv.weight')?.shape).toEqual([96, 32]);
      expect(file.tensors.get('vilt.transformer.pos_embed')?.shape).toEqual([1, 145, 32]);
      expect(file.tensors.get('vilt.transformer.patch_embed.proj.weight')?.shape).toEqual([32, 3, 32, 32]);
      expect(file.tensors.get('vilt.text_embeddings.position_ids')?.dtype).toBe('I64');
      expect(file.tensors.get('vqa_classifier.3.weight')?.shape).toEqual([10, 64]);
    });

    it('refuses a truncated archive', () => {
      const bytes = readFileSync(sharedPath('real', 'vqa', 'pytorch_model.bin'));
      for (const keep of [bytes.length - 10, Math.floor(bytes.length / 2), 100]) {
        expect(checkpointError(() => readTorchCheckpoint(bytes.subarray(0, keep))).message).toMatch(
          /pytorch_model.bin: not a readable zip archive, perhaps truncated/,
        );
      }
    });
  },
);

describe('torch.save archives', () => {
  it('round-trips tensors of every dtype through a torch.save-shaped archive', () => {
    const tensors = new Map<string, CheckpointTensor>([
      ['w', { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, -6.5]) }],
      ['h', { dtype: 'F16', shape: [2], data: Float32Array.from([0.5, -2]) }],
      ['b', { dtype: 'BF16', shape: [1], data: Float32Array.from([3]) }],
      ['ids', { dtype: 'I64', shape: [1, 3], data: BigInt64Array.from([0n, 1n, -(2n ** 40n)]) }],
      ['mask', { dtype: 'BOOL', shape: [2], data: Uint8Array.from([1, 0]) }],
      ['empty', { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) }],
    ]);
    const bytes = torchSave(tensors);
    expect(sniffCheckpointFormat(bytes)).toBe('torch');
    const file = readCheckpoint(bytes);
    expect(file.tensors).toEqual(tensors);
  });

  it('honours storage offset and strides of views (a slice and a transpose)', () => {
    const storage = { className: 'FloatStorage', key: '7', numel: 8, bytes: f32([0, 1, 2, 3, 4, 5, 6, 7]) };
    const file = readTorchCheckpoint(
      torchZip(
        new Map<string, TorchTensorSpec>([
          ['rows', { shape: [2, 2], offset: 4, storage }],
          ['transposed', { shape: [2, 3], stride: [1, 2], offset: 1, storage }],
          ['single', { shape: [1, 2], stride: [99, 1], offset: 6, storage }],
        ]),
      ),
    );
    expect(Array.from(file.tensors.get('rows')?.data as Float32Array)).toEqual([4, 5, 6, 7]);
    // element [i, j] = storage[1 + i + 2j]
    expect(Array.from(file.tensors.get('transposed')?.data as Float32Array)).toEqual([1, 3, 5, 2, 4, 6]);
    expect(Array.from(file.tensors.get('single')?.data as Float32Array)).toEqual([6, 7]);
  });

  it('refuses a storage record longer than the storage the pickle names (a wrong type or size)', () => {
    const bytes = f32([1, 2, 3, 4]);
    for (const storage of [
      { className: 'HalfStorage', key: '0', numel: 4, bytes },
      { className: 'FloatStorage', key: '0', numel: 3, bytes },
    ]) {
      expect(
        checkpointError(() => readTorchCheckpoint(torchZip(new Map([['w', spec(bytes, [2], { storage })]]))))
          .message,
      ).toMatch(/storage data\/0 holds 16 bytes, but \d elements of F(16|32) need (8|12)/);
    }
  });

  it('refuses a storage shorter than its tensor', () => {
    const shortFile = f32([1, 2, 3]);
    expect(
      checkpointError(() =>
        readTorchCheckpoint(
          torchZip(
            new Map([
              [
                'w',
                spec(shortFile, [2, 2], {
                  storage: { className: 'FloatStorage', key: '0', numel: 4, bytes: shortFile },
                }),
              ],
            ]),
          ),
        ),
      ).message,
    ).toMatch(/storage data\/0 holds 12 bytes, but 4 elements of F32 need 16/);
    expect(
      checkpointError(() => readTorchCheckpoint(torchZip(new Map([['w', spec(f32([1, 2, 3]), [2, 2])]]))))
        .message,
    ).toMatch(/shape \[2, 2\] at storage offset 0 needs element 3 of storage data\/0, which holds 3/);
    expect(
      checkpointError(() =>
        readTorchCheckpoint(torchZip(new Map([['w', spec(f32([1, 2, 3, 4]), [2, 2], { offset: 1 })]]))),
      ).message,
    ).toMatch(/needs element 4/);
  });

  it('refuses a storage that is missing from the archive', () => {
    const s = spec(f32([1]), [1]);
    const withoutData = torchZip(new Map([['w', { ...s, storage: { ...s.storage, bytes: undefined } }]]));
    expect(checkpointError(() => readTorchCheckpoint(withoutData)).message).toMatch(
      /storage archive\/data\/0 is missing/,
    );
  });

  it('refuses an unknown storage type, naming it', () => {
    const bytes = f32([1, 2]);
    const zip = torchZip(
      new Map([
        ['w', spec(bytes, [1], { storage: { className: 'ComplexFloatStorage', key: '0', numel: 1, bytes } })],
      ]),
    );
    expect(checkpointError(() => readTorchCheckpoint(zip)).message).toMatch(
      /unsupported storage type torch.ComplexFloatStorage \(supported: torch.FloatStorage/,
    );
  });

  it('refuses a data.pkl that names a foreign global, without running anything', () => {
    const evil = new PickleBuilder()
      .proto()
      .global('os', 'system')
      .tuple((b) => b.str('touch /tmp/pwned'))
      .reduce()
      .stop()
      .bytes();
    const err = checkpointError(() => readTorchCheckpoint(torchZip(new Map(), { pickle: evil })));
    expect(err.message).toMatch(/refusing the global "os.system"/);
    expect(err.message).toMatch(/archive\/data.pkl/);
  });

  it('refuses archives that are not state dicts', () => {
    expect(
      checkpointError(() =>
        readTorchCheckpoint(torchZip(new Map(), { root: 'a', extra: { 'b/data.pkl': new Uint8Array(1) } })),
      ).message,
    ).toMatch(/several data.pkl/);
    const list = new PickleBuilder().proto().raw(0x5d).stop().bytes();
    expect(checkpointError(() => readTorchCheckpoint(torchZip(new Map(), { pickle: list }))).message).toMatch(
      /does not hold a state dict/,
    );
    const notTensor = new PickleBuilder().proto().raw(0x7d).str('epoch').int(3).raw(0x73).stop().bytes();
    expect(
      checkpointError(() => readTorchCheckpoint(torchZip(new Map(), { pickle: notTensor }))).message,
    ).toMatch(/entry "epoch" is not a tensor/);
    const bigEndian = torchZip(new Map([['w', spec(f32([1]), [1])]]), {
      extra: { 'archive/byteorder': new TextEncoder().encode('big') },
    });
    expect(checkpointError(() => readTorchCheckpoint(bigEndian)).message).toMatch(/big-endian/);
  });

  it('names the pre-1.6 pickle format instead of misreading it as safetensors', () => {
    const legacy = Uint8Array.from([
      0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e,
    ]);
    expect(checkpointError(() => readCheckpoint(legacy, 'old.bin')).message).toMatch(
      /old.bin: the legacy torch.save format/,
    );
    // A safetensors header of 640 bytes starts with the same two bytes 0x80 0x02: still safetensors.
    const json = JSON.stringify({ t: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }).padEnd(640, ' ');
    const st = new Uint8Array(8 + 640 + 4);
    new DataView(st.buffer).setBigUint64(0, 640n, true);
    st.set(new TextEncoder().encode(json), 8);
    expect([st[0], st[1]]).toEqual([0x80, 0x02]);
    expect(sniffCheckpointFormat(st)).toBe('safetensors');
    expect(readCheckpoint(st).tensors.get('t')?.shape).toEqual([1]);
  });
});
