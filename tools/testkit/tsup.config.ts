import { pumerTsup } from '../../tools/config/tsup.base.ts';

// `shims` gives the CJS build an import.meta.url, which shared-data.ts walks up from.
export default pumerTsup(['src/index.ts', 'src/node.ts', 'src/vitest.ts', 'src/chromium.ts'], {
  shims: true,
  external: ['vitest'],
});
