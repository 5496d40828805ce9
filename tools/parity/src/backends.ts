/**
 * The runner loads backends through @pumer/pumer's one loader (it imports a backend's package on demand, checks
 * that it registered and makes it the active backend); the package of each name is core's table.
 */
export { BACKEND_PACKAGES } from '@pumer/core';
export { loadBackend } from '@pumer/pumer/loaders';
