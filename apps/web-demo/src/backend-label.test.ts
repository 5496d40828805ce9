import { createCpuBackend } from '@pumer/backend-cpu';
import { BackendError, findBackend, registerBackend, removeBackend } from '@pumer/core';
import { describe, expect, it } from 'vitest';
import { backendLabel, fallbackNote, webGpuUnavailableReason } from './backend-label.js';

const swiftshader = {
  vendor: 'google',
  architecture: 'swiftshader',
  device: '',
  description: '',
  software: true,
};

describe('backendLabel', () => {
  it('names the WebGPU adapter, and says when it is a software one', () => {
    expect(backendLabel({ name: 'webgpu', provider: 'webgpu', adapterInfo: swiftshader })).toBe(
      'WebGPU on google swiftshader (software)',
    );
    const hardware = { ...swiftshader, vendor: 'nvidia', architecture: 'ampere', software: false };
    expect(backendLabel({ name: 'webgpu', provider: 'webgpu', adapterInfo: hardware })).toBe(
      'WebGPU on nvidia ampere',
    );
  });

  it('labels by what ran, not by the registry name: the wasm entry is the webgpu package on wasm', () => {
    expect(backendLabel({ name: 'webgpu', provider: 'wasm' })).toBe('wasm (onnxruntime-web, CPU)');
    expect(backendLabel(createCpuBackend().info())).toBe('TypeScript reference');
  });
});

describe('webGpuUnavailableReason', () => {
  it("is the backend's own reason, without the registry's and the provider's preamble", async () => {
    // What the demo's strict webgpu factory throws where the browser has no WebGPU (runtime.ts).
    registerBackend('demo-test-webgpu', () => {
      throw new BackendError(
        'provider "webgpu" requested but navigator.gpu is undefined: this browser has no WebGPU',
      );
    });
    try {
      const err = await findBackend('demo-test-webgpu').catch((e: unknown) => e);
      expect(webGpuUnavailableReason(err)).toBe('navigator.gpu is undefined: this browser has no WebGPU');
    } finally {
      removeBackend('demo-test-webgpu');
    }
  });

  it('makes one line that names the fallback', () => {
    const note = fallbackNote('no WebGPU adapter: blocklisted GPU');
    expect(note).toBe(
      'WebGPU is not available here (no WebGPU adapter: blocklisted GPU), so the demo runs on wasm (onnxruntime-web, CPU).',
    );
    expect(note).not.toContain('\n');
  });
});
