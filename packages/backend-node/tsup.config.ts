import { pumerTsup } from '../../tools/config/tsup.base.ts';

// import.meta.url (used to locate onnxruntime-node's native dir) in the CJS build.
export default pumerTsup(['src/index.ts'], { shims: true });
