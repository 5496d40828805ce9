import { pumerTsup } from '../../tools/config/tsup.base.ts';

export default pumerTsup(['src/index.ts']);
