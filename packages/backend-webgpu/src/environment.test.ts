import { describe, expect, it } from 'vitest';
import { copySharedViewsOnWrite } from './environment.js';

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
