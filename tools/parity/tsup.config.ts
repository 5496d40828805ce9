import { pumerTsup } from '../../tools/config/tsup.base.ts';

// @pumer/testkit is private: its golden readers are bundled into this package's build (code and types), so a
// published @pumer/parity does not depend on it.
export default pumerTsup(['src/index.ts'], {
  noExternal: ['@pumer/testkit'],
  dts: { resolve: [/^@pumer\/testkit/] },
  shims: true,
});
