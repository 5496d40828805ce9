import { describe, expect, it } from 'vitest';
import {
  adapterLabel,
  copySharedViewsOnWrite,
  describeAdapter,
  softwareAdapterWarning,
} from './environment.js';

interface Call {
  data: unknown;
  rest: unknown[];
}

function fakeDevice(calls: Call[]): GPUDevice {
  const queue = {
    writeBuffer(_buffer: unknown, _offset: number, data: unknown, ...rest: unknown[]) {
      calls.push({ data, rest });
    },
  };
  return { queue } as unknown as GPUDevice;
}

describe('copySharedViewsOnWrite', () => {
  it('hands Dawn a plain-ArrayBuffer copy of views of a SharedArrayBuffer, element type and range kept', () => {
    const calls: Call[] = [];
    const device = fakeDevice(calls);
    copySharedViewsOnWrite(device);
    const shared = new Float32Array(new SharedArrayBuffer(32));
    shared.set([1, 2, 3, 4, 5, 6, 7, 8]);
    const view = shared.subarray(2, 6);
    // Dawn's typings forbid shared views; ORT passes them anyway, which is the point of the wrapper.
    device.queue.writeBuffer({} as GPUBuffer, 0, view as unknown as Float32Array<ArrayBuffer>, 1, 2);
    const sent = calls[0]!.data as Float32Array;
    expect(sent).toBeInstanceOf(Float32Array);
    expect(sent.buffer).toBeInstanceOf(ArrayBuffer);
    expect(Array.from(sent)).toEqual([3, 4, 5, 6]);
    expect(calls[0]!.rest).toEqual([1, 2]); // offsets are in elements of the (copied) view
    shared[2] = 99; // a copy, not an alias
    expect(sent[0]).toBe(3);
  });

  it('passes plain views through untouched', () => {
    const calls: Call[] = [];
    const device = fakeDevice(calls);
    copySharedViewsOnWrite(device);
    const plain = new Uint8Array([1, 2, 3]);
    device.queue.writeBuffer({} as GPUBuffer, 4, plain);
    expect(calls[0]!.data).toBe(plain);
  });

  it('copies a bare SharedArrayBuffer', () => {
    const calls: Call[] = [];
    const device = fakeDevice(calls);
    copySharedViewsOnWrite(device);
    const sab = new SharedArrayBuffer(4);
    new Uint8Array(sab).set([9, 8, 7, 6]);
    device.queue.writeBuffer({} as GPUBuffer, 0, sab as unknown as ArrayBuffer);
    const sent = calls[0]!.data as ArrayBuffer;
    expect(sent).toBeInstanceOf(ArrayBuffer);
    expect(Array.from(new Uint8Array(sent))).toEqual([9, 8, 7, 6]);
  });
});

/** An adapter with only what describeAdapter reads. */
const adapterWith = (fields: object) => fields as unknown as GPUAdapter;

describe('describeAdapter', () => {
  it("reads Dawn's SwiftShader adapter (adapter.info, isFallbackAdapter there) as software, and warns", async () => {
    const d = await describeAdapter(
      adapterWith({
        info: {
          vendor: 'google',
          architecture: 'swiftshader',
          device: 'swiftshader-device-subzero-',
          description: 'SwiftShader driver 5.0.0',
          isFallbackAdapter: true,
        },
      }),
    );
    expect(d).toEqual({
      vendor: 'google',
      architecture: 'swiftshader',
      device: 'swiftshader-device-subzero-',
      description: 'SwiftShader driver 5.0.0',
      software: true,
    });
    expect(adapterLabel(d)).toBe(
      'google swiftshader swiftshader-device-subzero- (SwiftShader driver 5.0.0), software',
    );
    expect(softwareAdapterWarning(d)).toMatch(
      /^WebGPU runs on a software adapter \(SwiftShader driver 5.0.0\), i.e. on the CPU: far slower than the node backend/,
    );
  });

  it.each([
    ['llvmpipe by name', { vendor: 'mesa', architecture: '', device: 'llvmpipe (LLVM 15.0.6, 256 bits)' }],
    ['lavapipe by name', { vendor: 'mesa', description: 'Vulkan lavapipe' }],
    ['a fallback adapter by its flag alone', { vendor: 'microsoft', isFallbackAdapter: true }],
  ])('marks %s as software', async (_what, info) => {
    const d = await describeAdapter(adapterWith({ info }));
    expect(d.software).toBe(true);
    expect(softwareAdapterWarning(d)).toMatch(/software adapter/);
  });

  it('reads the older API: requestAdapterInfo() and the adapter-level isFallbackAdapter', async () => {
    const d = await describeAdapter(
      adapterWith({
        isFallbackAdapter: true,
        requestAdapterInfo: async () => ({ vendor: 'acme', architecture: 'cpu-sim' }),
      }),
    );
    expect(d).toMatchObject({ vendor: 'acme', architecture: 'cpu-sim', software: true });
    expect(adapterLabel(d)).toBe('acme cpu-sim, software');
  });

  it('leaves a hardware adapter unmarked, without a warning', async () => {
    const d = await describeAdapter(
      adapterWith({
        info: { vendor: 'nvidia', architecture: 'ampere', device: '', description: 'NVIDIA RTX A4000' },
      }),
    );
    expect(d.software).toBe(false);
    expect(adapterLabel(d)).toBe('nvidia ampere (NVIDIA RTX A4000)');
    expect(softwareAdapterWarning(d)).toBeUndefined();
  });

  it('says "unknown adapter" when the implementation tells nothing', async () => {
    const d = await describeAdapter(adapterWith({}));
    expect(adapterLabel(d)).toBe('unknown adapter');
    expect(d.software).toBe(false);
  });
});
