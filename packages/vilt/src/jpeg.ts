import mozjpegFactory from '@jsquash/jpeg/codec/dec/mozjpeg_dec.js';
import { PumerError } from '@pumer/core';
import { type DecodedImage, type ImageDecoder, sniffImageFormat } from './image.js';
import { checkPixelLimit, type ImageDecodeOptions, jpegDimensions, maxPixelsOf } from './image-size.js';
import { applyOrientation, jpegExifOrientation } from './orientation.js';

/**
 * JPEG decoding with libjpeg's own algorithm (mozjpeg, built on libjpeg-turbo, compiled to WebAssembly and
 * shipped by `@jsquash/jpeg`): the same IDCT and "fancy" chroma upsampling as the libjpeg Pillow links, so
 * a photo decodes to exactly Pillow's RGB. Works in Node and browsers; only how the .wasm is obtained
 * differs (Node reads it from the package, a browser fetches the URL its bundler serves it at).
 */

/**
 * Decodes JPEG bytes to RGB pixels, EXIF orientation applied; `source` names the image in errors. A frame
 * larger than `options.maxPixels` (default DEFAULT_MAX_PIXELS) is refused from its header, before decoding.
 */
export type JpegDecoder = (bytes: Uint8Array, source: string, options?: ImageDecodeOptions) => DecodedImage;

interface MozjpegModule {
  decode(
    data: Uint8Array,
    preserveOrientation: boolean,
  ): { data: Uint8ClampedArray; width: number; height: number } | null;
}

interface MozjpegOptions {
  noInitialRun: boolean;
  instantiateWasm(
    imports: WebAssembly.Imports,
    done: (instance: WebAssembly.Instance) => void,
  ): WebAssembly.Exports;
  print(text: string): void;
  printErr(text: string): void;
}

type MozjpegFactory = (options: MozjpegOptions) => Promise<MozjpegModule>;
// The emscripten glue's own typings name a global namespace it does not declare; this is the part used.
// The CJS build loads the (ESM-only) glue with require(), whose interop wraps the namespace once more.
const imported = mozjpegFactory as unknown as MozjpegFactory | { default: MozjpegFactory };
const factory: MozjpegFactory = typeof imported === 'function' ? imported : imported.default;

/** libjpeg's warning for a cut-off file: it would fill the rest with grey; Pillow refuses such files. */
const TRUNCATED = /premature end of jpeg file/i;

/**
 * A decoder over a compiled `mozjpeg_dec.wasm`. Instantiation is synchronous (the glue fills its module
 * object before its promise settles when the instance is handed over directly), so decoding is synchronous
 * too. After a fatal libjpeg error the instance is discarded: its heap may hold the aborted decode.
 */
export function createJpegDecoder(wasm: WebAssembly.Module): JpegDecoder {
  let codec: MozjpegModule | null = null;
  let messages: string[] = [];
  const instantiate = (): MozjpegModule => {
    const options: MozjpegOptions & Partial<MozjpegModule> = {
      noInitialRun: true,
      instantiateWasm(imports, done) {
        const instance = new WebAssembly.Instance(wasm, imports);
        done(instance);
        return instance.exports;
      },
      print: (text) => messages.push(text),
      printErr: (text) => messages.push(text),
    };
    factory(options).catch(() => {}); // failures surface below, synchronously
    if (typeof options.decode !== 'function')
      throw new PumerError('IMAGE', 'the mozjpeg decoder did not initialise synchronously');
    return options as MozjpegModule;
  };
  return (bytes, source, options) => {
    const maxPixels = maxPixelsOf(options);
    const size = jpegDimensions(bytes);
    // libjpeg reads the same frame header; without one there is nothing it could decode either.
    if (!size)
      throw new PumerError('IMAGE', `${source}: cannot decode JPEG (no frame header before the scan)`);
    checkPixelLimit(size.width, size.height, maxPixels, source);
    codec ??= instantiate();
    messages = [];
    let raw: ReturnType<MozjpegModule['decode']>;
    try {
      raw = codec.decode(bytes, false);
    } catch (err) {
      codec = null;
      const why = messages.join('; ') || (err instanceof Error ? err.message : String(err));
      throw new PumerError('IMAGE', `${source}: cannot decode JPEG (${why})`, { cause: err });
    }
    if (!raw)
      throw new PumerError('IMAGE', `${source}: cannot decode JPEG (${messages.join('; ') || 'no image'})`);
    if (messages.some((m) => TRUNCATED.test(m)))
      throw new PumerError('IMAGE', `${source}: cannot decode JPEG (the file is truncated)`);
    const { width, height, data } = raw;
    // The codec emits RGBA with alpha 255; keep RGB.
    const rgb = new Uint8Array(width * height * 3);
    for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) {
      rgb[j] = data[i];
      rgb[j + 1] = data[i + 1];
      rgb[j + 2] = data[i + 2];
    }
    return applyOrientation({ data: rgb, width, height, channels: 3 }, jpegExifOrientation(bytes));
  };
}

/**
 * A JPEG decoder for browsers (and any host with fetch). Pass the URL the bundler serves
 * `@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm` at (Vite: `import url from
 * '@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm?url'`), its bytes, or a compiled module.
 */
export async function loadJpegDecoder(
  wasm: string | URL | ArrayBuffer | Uint8Array | WebAssembly.Module,
): Promise<JpegDecoder> {
  let module: WebAssembly.Module;
  if (wasm instanceof WebAssembly.Module) module = wasm;
  else if (typeof wasm === 'string' || wasm instanceof URL) {
    const response = await fetch(wasm);
    if (!response.ok)
      throw new PumerError(
        'IMAGE',
        `cannot fetch the JPEG decoder from ${String(wasm)}: HTTP ${response.status}`,
      );
    module = await WebAssembly.compile(await response.arrayBuffer());
  } else module = await WebAssembly.compile(wasm instanceof Uint8Array ? new Uint8Array(wasm) : wasm);
  return createJpegDecoder(module);
}

/**
 * An ImageDecoder (for `setImageDecoder`) that decodes JPEG bytes with `jpeg`. PNG bytes are refused: in a
 * browser, draw a PNG on a canvas and pass its pixels — the file's values for an opaque PNG without a colour
 * profile; a canvas premultiplies alpha, so where alpha < 255 its RGB can differ from Pillow's.
 */
export function jpegImageDecoder(jpeg: JpegDecoder, options?: ImageDecodeOptions): ImageDecoder {
  const maxPixels = maxPixelsOf(options);
  return {
    decode(bytes, source) {
      const format = sniffImageFormat(bytes);
      if (format === 'jpeg') return jpeg(bytes, source, { maxPixels });
      throw new PumerError(
        'IMAGE',
        format === 'png'
          ? `${source}: PNG bytes need '@pumer/vilt/node' (or pass a canvas's decoded pixels)`
          : `${source}: not a JPEG image (unrecognised leading bytes)`,
      );
    },
  };
}
