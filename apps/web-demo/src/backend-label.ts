import type { BackendInfo } from '@pumer/core';

/**
 * What the page says about the backend: exactly what ran (the provider, and for WebGPU the adapter), and why
 * WebGPU is not there when the demo fell back. Pure, so it is tested in Node.
 */

/** The adapter fields of the webgpu backend's `info()` (GPUAdapterInfo; empty strings where it says nothing). */
interface AdapterFields {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  readonly software: boolean;
}

/** BackendInfo as the webgpu backend fills it: `adapterInfo` on WebGPU runs. */
export type DemoBackendInfo = BackendInfo & { readonly adapterInfo?: AdapterFields };

/** The adapter in a few words, e.g. "google swiftshader (software)". */
function adapterName(info: DemoBackendInfo): string {
  const a = info.adapterInfo;
  if (!a) return info.adapter ?? 'an unnamed adapter';
  const name =
    [a.vendor, a.architecture].filter((s) => s.length > 0).join(' ') ||
    a.device ||
    a.description ||
    'an unnamed adapter';
  return a.software ? `${name} (software)` : name;
}

/**
 * What ran, in the words a user knows: "WebGPU on google swiftshader (software)", "wasm (onnxruntime-web,
 * CPU)", "TypeScript reference". Keyed on the provider, not the registry name: the demo's wasm entry is the
 * webgpu package's backend running onnxruntime-web's wasm provider.
 */
export function backendLabel(info: DemoBackendInfo): string {
  switch (info.provider) {
    case 'webgpu':
      return `WebGPU on ${adapterName(info)}`;
    case 'wasm':
      return 'wasm (onnxruntime-web, CPU)';
    case 'typescript':
      return 'TypeScript reference';
    default:
      return `${info.name} (${info.provider})`;
  }
}

/** The innermost message of an error chain: the registry wraps the backend's own reason. */
function rootMessage(err: unknown): string {
  let e = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}

/**
 * Why WebGPU could not start, from the error of initialising the strict webgpu backend: the backend's own
 * reason (no navigator.gpu, no adapter, no device) without the "requested but" preamble.
 */
export function webGpuUnavailableReason(err: unknown): string {
  return rootMessage(err)
    .replace(/^backend "webgpu" failed to initialise: /, '')
    .replace(/^provider "webgpu" requested but /, '');
}

/** The one line the page shows when it starts on wasm because WebGPU is not there. */
export function fallbackNote(reason: string): string {
  return `WebGPU is not available here (${reason}), so the demo runs on wasm (onnxruntime-web, CPU).`;
}
