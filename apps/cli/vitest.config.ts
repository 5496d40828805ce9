import { pumerProject } from '../../tools/config/vitest.base.ts';

// The scratch folder the packaging and README tests share (installed once, on first use).
export default pumerProject('@pumer/cli', { test: { globalSetup: ['test/scratch-root.ts'] } });
