import { referenceSuite } from '../testing/reference-suite.js';

referenceSuite('tiny-vilt-shapes');
