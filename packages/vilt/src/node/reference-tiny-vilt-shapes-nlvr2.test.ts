import { nlvr2ReferenceSuite } from '../testing/nlvr2-reference-suite.js';

nlvr2ReferenceSuite('tiny-vilt-shapes-nlvr2');
