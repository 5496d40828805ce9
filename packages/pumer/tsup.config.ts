import { pumerTsup } from '../../tools/config/tsup.base.ts';

// node and browser: the two platform entries (each imports its backends); loaders: the on-demand backend
// loader alone, free of side effects, for code that must not load a backend before it is asked for.
export default pumerTsup(['src/node.ts', 'src/browser.ts', 'src/loaders.ts']);
