// The suite runs on the active backend: the CPU reference, registered on import.
import '@pumer/backend-cpu';
import { referenceSuite } from '../testing/reference-suite.js';

referenceSuite('tiny-vilt-shapes-pumer');
