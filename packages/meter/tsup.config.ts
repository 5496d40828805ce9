import { pumerTsup } from '../../tools/config/tsup.base.ts';

// index: browser-safe; node: fs loading, conversion and the bundled tiny tokenizer. The CJS build shims
// import.meta.url (used to find assets/).
export default pumerTsup(['src/index.ts', 'src/node.ts'], { shims: true });
