import { pumerTsup } from '../../tools/config/tsup.base.ts';

// index: browser-safe core; node: fs, PNG/JPEG decoding, bundled assets, evaluate. The CJS build shims
// import.meta.url (used to find assets/).
export default pumerTsup(['src/index.ts', 'src/node.ts'], { shims: true });
