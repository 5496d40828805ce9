import { pumerTsup } from '../../tools/config/tsup.base.ts';

export default [
  pumerTsup(['src/index.ts']),
  // The `pumer` executable, ESM only. Its shebang comes from src/bin.ts: esbuild keeps a source hashbang,
  // so a `banner` would print a second one (a syntax error).
  // `bench --memory` starts bench-memory-child.js (beside bin.js) once per configuration.
  pumerTsup(
    { bin: 'src/bin.ts', 'bench-memory-child': 'src/bench/memory-child.ts' },
    { format: ['esm'], dts: false, clean: false },
  ),
];
