import { pumerProject } from '../../tools/config/vitest.base.ts';

export default pumerProject('@pumer/meter');
