import { registerBackend } from '@pumer/core';
import { createCpuBackend } from './backend.js';

export { createCpuBackend } from './backend.js';
export * as kernels from './kernels.js';

// Importing this package makes 'cpu' available to setBackend()/ready(); priority 1 puts it below device backends.
registerBackend('cpu', createCpuBackend, 1);
