/// <reference types="@webgpu/types" />
/**
 * Where WebGPU comes from. In a browser it is `navigator.gpu`. In Node there is none, so we bring Dawn's
 * Node binding (the optional npm package `webgpu`) and make it look like a browser to onnxruntime-web:
 * Vulkan driver discovery, `navigator.gpu`, the GPU* globals, and a small fix to the device's queue.
 * Everything Node-only is reached through dynamic imports with non-literal specifiers, so browser bundlers
 * never try to resolve `webgpu` or `node:*` modules.
 */

/** Debian's chromium package ships SwiftShader's Vulkan ICD here: a CPU Vulkan driver Dawn accepts. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return (
    typeof p?.versions?.node === 'string' &&
    typeof (globalThis as { window?: unknown }).window === 'undefined'
  );
}

/** Imports a module the bundler must not follow (Node built-ins and the native `webgpu` package). */
function importRuntime<T>(specifier: string): Promise<T> {
  return import(/* @vite-ignore */ specifier) as Promise<T>;
}

/** The adapter as WebGPU describes it (GPUAdapterInfo; empty strings where it says nothing). */
export interface GpuAdapterDescription {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  /**
   * WebGPU implemented on the CPU: SwiftShader, Mesa's llvmpipe or lavapipe, or whatever the implementation
   * calls its fallback adapter. Such an adapter runs a model far slower than onnxruntime-node on the same CPU.
   */
  readonly software: boolean;
}

/** Names CPU implementations of Vulkan / WebGPU give themselves in the adapter info. */
export const SOFTWARE_ADAPTER_NAMES = /swiftshader|llvmpipe|lavapipe/i;

/** What we found, for `info()` and error messages. */
export interface GpuEnvironment {
  readonly device: GPUDevice;
  /** One line, e.g. "google swiftshader swiftshader-device-subzero- (SwiftShader driver 5.0.0), software". */
  readonly adapter: string;
  readonly adapterInfo: GpuAdapterDescription;
  /** Node only: notes about what we set up (Vulkan ICD, V8 flags), empty in browsers. */
  readonly notes: readonly string[];
}

/** Why WebGPU is not available, in one line with the fix. */
export class GpuUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpuUnavailable';
  }
}

interface DawnModule {
  create(options: string[]): GPU;
  globals: Record<string, unknown>;
}

interface NodeProcess {
  env: Record<string, string | undefined>;
  getuid?: () => number;
}

let nodePrepared: Promise<string[]> | null = null;

/**
 * One-time Node preparation, before onnxruntime-web compiles its wasm:
 * - V8 `--liftoff-only`. Node's event loop waits for V8's background wasm compile jobs whenever it idles
 *   (it does while a GPU readback is pending); optimising ORT's 27 MB asyncify module with TurboFan then
 *   stalls the first inference for about a minute on 2 cores. Liftoff code is ready at once; the GPU does
 *   the heavy math anyway. Opt out with `liftoffOnly: false`.
 * - Vulkan driver: if VK_ICD_FILENAMES is unset and SwiftShader's ICD is installed, point Dawn at it.
 * - XDG_RUNTIME_DIR must name a writable directory for the Vulkan loader.
 */
export function prepareNode(liftoffOnly: boolean): Promise<string[]> {
  nodePrepared ??= (async () => {
    const notes: string[] = [];
    const proc = (globalThis as unknown as { process: NodeProcess }).process;
    if (liftoffOnly) {
      const v8 = await importRuntime<{ setFlagsFromString(flags: string): void }>('node:v8');
      v8.setFlagsFromString('--liftoff-only');
      notes.push('V8 --liftoff-only (wasm)');
    }
    const fs = await importRuntime<typeof import('node:fs')>('node:fs');
    if (!proc.env['VK_ICD_FILENAMES'] && fs.existsSync(SWIFTSHADER_ICD)) {
      proc.env['VK_ICD_FILENAMES'] = SWIFTSHADER_ICD;
      notes.push(`VK_ICD_FILENAMES=${SWIFTSHADER_ICD} (SwiftShader, set automatically)`);
    } else if (proc.env['VK_ICD_FILENAMES']) {
      notes.push(`VK_ICD_FILENAMES=${proc.env['VK_ICD_FILENAMES']}`);
    }
    if (!proc.env['XDG_RUNTIME_DIR']) {
      const os = await importRuntime<typeof import('node:os')>('node:os');
      const path = await importRuntime<typeof import('node:path')>('node:path');
      const dir = path.join(os.tmpdir(), `pumer-xdg-${proc.getuid?.() ?? 'user'}`);
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      proc.env['XDG_RUNTIME_DIR'] = dir;
    }
    return notes;
  })();
  return nodePrepared;
}

let dawn: Promise<GPU> | null = null;

/** Dawn's `navigator.gpu` for Node, created once per process; GPU* globals installed where missing. */
async function dawnGpu(): Promise<GPU> {
  dawn ??= (async () => {
    let mod: DawnModule;
    try {
      mod = await importRuntime<DawnModule>('webgpu');
    } catch (err) {
      throw new GpuUnavailable(
        `the optional npm package "webgpu" (Dawn for Node) is not installed (${(err as Error).message}); ` +
          'install it with `npm install webgpu`',
      );
    }
    const g = globalThis as Record<string, unknown>;
    // onnxruntime-web checks `device instanceof GPUDevice` and shaders use GPUBufferUsage & co.
    for (const [name, value] of Object.entries(mod.globals)) if (!(name in g)) g[name] = value;
    const gpu = mod.create([]);
    const nav = g['navigator'] as { gpu?: GPU } | undefined;
    if (nav === undefined) g['navigator'] = { gpu };
    else if (!nav.gpu) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
    return gpu;
  })();
  return dawn;
}

/**
 * Dawn's `GPUQueue.writeBuffer` rejects views of a SharedArrayBuffer ("Invalid argument"), and ORT's wasm
 * memory is one. This wraps the queue of our own device (never a prototype) so such views are copied into
 * a plain ArrayBuffer first. Browsers accept the views and do not get the wrapper.
 */
export function copySharedViewsOnWrite(device: GPUDevice): void {
  const queue = device.queue;
  const write = queue.writeBuffer.bind(queue) as (...args: unknown[]) => undefined;
  const patched = (
    buffer: GPUBuffer,
    offset: number,
    data: ArrayBufferView | ArrayBufferLike,
    ...rest: unknown[]
  ) => {
    if (typeof SharedArrayBuffer !== 'undefined') {
      if (data instanceof SharedArrayBuffer) data = new Uint8Array(data).slice().buffer;
      else if (ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer) {
        const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
        // Keep the element type: writeBuffer counts dataOffset/size in elements of typed arrays.
        const ctor = (data as unknown as { constructor: { BYTES_PER_ELEMENT?: number } }).constructor;
        const per = ctor.BYTES_PER_ELEMENT;
        data =
          per && !(data instanceof DataView)
            ? new (data.constructor as new (b: ArrayBuffer, o: number, n: number) => ArrayBufferView)(
                bytes.buffer,
                0,
                data.byteLength / per,
              )
            : bytes;
      }
    }
    return write(buffer, offset, data, ...rest);
  };
  Object.defineProperty(queue, 'writeBuffer', { value: patched, configurable: true, writable: true });
}

/** GPUAdapterInfo fields as found: current implementations (Dawn, Chromium 131+) or the older method. */
interface AdapterInfoFields {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly device?: string;
  readonly description?: string;
  readonly isFallbackAdapter?: boolean;
}

/**
 * Reads the adapter's info: `adapter.info` where the implementation has it, else the older
 * `requestAdapterInfo()`; `isFallbackAdapter` from the info (current spec) or the adapter (older spec).
 */
export async function describeAdapter(adapter: GPUAdapter): Promise<GpuAdapterDescription> {
  const a = adapter as unknown as {
    info?: AdapterInfoFields;
    requestAdapterInfo?: () => Promise<AdapterInfoFields>;
    isFallbackAdapter?: boolean;
  };
  let info: AdapterInfoFields = a.info ?? {};
  if (a.info === undefined && typeof a.requestAdapterInfo === 'function') {
    info = await a.requestAdapterInfo().catch(() => ({}));
  }
  const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
  const fields = {
    vendor: text(info.vendor),
    architecture: text(info.architecture),
    device: text(info.device),
    description: text(info.description),
  };
  const named = Object.values(fields).some((v) => SOFTWARE_ADAPTER_NAMES.test(v));
  const fallback = info.isFallbackAdapter === true || a.isFallbackAdapter === true;
  return { ...fields, software: named || fallback };
}

/** The adapter in one line, for `info().adapter` and messages. */
export function adapterLabel(d: GpuAdapterDescription): string {
  const names = [d.vendor, d.architecture, d.device].filter((s) => s.length > 0).join(' ');
  const label = d.description ? (names ? `${names} (${d.description})` : d.description) : names;
  return `${label || 'unknown adapter'}${d.software ? ', software' : ''}`;
}

/** The one-line warning `info()` carries when WebGPU runs on a software adapter (undefined otherwise). */
export function softwareAdapterWarning(d: GpuAdapterDescription): string | undefined {
  if (!d.software) return undefined;
  const name = d.description || [d.vendor, d.architecture].filter((s) => s.length > 0).join(' ') || 'unnamed';
  return `WebGPU runs on a software adapter (${name}), i.e. on the CPU: far slower than the node backend (onnxruntime-node); use a hardware adapter, or the node backend outside a browser`;
}

/**
 * Asks for the adapter's own limits on the sizes that grow with the model, so big weights and activations
 * fit (the spec defaults are small: 128 MiB bindings).
 */
function deviceLimits(adapter: GPUAdapter): Record<string, number> {
  const wanted = [
    'maxBufferSize',
    'maxStorageBufferBindingSize',
    'maxComputeWorkgroupStorageSize',
    'maxComputeInvocationsPerWorkgroup',
    'maxComputeWorkgroupSizeX',
    'maxComputeWorkgroupSizeY',
    'maxComputeWorkgroupSizeZ',
    'maxComputeWorkgroupsPerDimension',
    'maxStorageBuffersPerShaderStage',
  ];
  const limits: Record<string, number> = {};
  const source = adapter.limits as unknown as Record<string, number>;
  for (const key of wanted) if (typeof source[key] === 'number') limits[key] = source[key];
  return limits;
}

export interface AcquireOptions {
  /** Node: restrict V8 to Liftoff for wasm (see prepareNode). */
  readonly liftoffOnly: boolean;
}

/** A WebGPU device for onnxruntime-web, or GpuUnavailable saying why not. */
export async function acquireGpu(options: AcquireOptions): Promise<GpuEnvironment> {
  const node = isNode();
  const notes = node ? await prepareNode(options.liftoffOnly) : [];
  let gpu: GPU | undefined = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu && node) gpu = await dawnGpu();
  if (!gpu) {
    throw new GpuUnavailable(
      'navigator.gpu is undefined: this browser has no WebGPU (or the page is not a secure context; ' +
        'Chromium: start it with --enable-unsafe-webgpu where WebGPU is not enabled by default)',
    );
  }
  const adapter = await gpu.requestAdapter();
  if (!adapter) {
    const vulkan = notes.filter((n) => n.startsWith('VK_'));
    const hint = node
      ? `Dawn found no usable Vulkan driver${vulkan.length ? ` (${vulkan.join('; ')})` : ''}; ` +
        `on Debian/Ubuntu: apt-get install -y chromium libvulkan1 (SwiftShader's ICD at ${SWIFTSHADER_ICD})`
      : 'the browser exposes navigator.gpu but returned no adapter (blocklisted GPU or WebGPU disabled)';
    throw new GpuUnavailable(`no WebGPU adapter: ${hint}`);
  }
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits: deviceLimits(adapter) });
  } catch (err) {
    throw new GpuUnavailable(`the WebGPU adapter refused to create a device: ${(err as Error).message}`);
  }
  if (node) copySharedViewsOnWrite(device);
  const adapterInfo = await describeAdapter(adapter);
  return { device, adapter: adapterLabel(adapterInfo), adapterInfo, notes };
}
