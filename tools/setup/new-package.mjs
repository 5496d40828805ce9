// Scaffolds the build/test config of one workspace package (used once per package; kept for new ones).
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
const [dir, name, description] = process.argv.slice(2);
mkdirSync(join(dir, 'src'), { recursive: true });
const write = (f, s) => {
  if (!existsSync(join(dir, f))) writeFileSync(join(dir, f), s);
};
write(
  'package.json',
  JSON.stringify(
    {
      name,
      version: '0.1.0',
      description,
      license: 'MIT',
      type: 'module',
      sideEffects: false,
      main: './dist/index.cjs',
      module: './dist/index.js',
      types: './dist/index.d.ts',
      exports: {
        '.': {
          '@pumer/source': './src/index.ts',
          import: { types: './dist/index.d.ts', default: './dist/index.js' },
          require: { types: './dist/index.d.cts', default: './dist/index.cjs' },
        },
        './package.json': './package.json',
      },
      files: ['dist', 'README.md'],
      scripts: { build: 'tsup', typecheck: 'tsc --noEmit', lint: 'biome check .', test: 'vitest run' },
      engines: { node: '>=20.19' },
    },
    null,
    2,
  ) + '\n',
);
write(
  'tsconfig.json',
  JSON.stringify({ extends: '../../tsconfig.base.json', include: ['src', 'test'] }, null, 2) + '\n',
);
write(
  'tsup.config.ts',
  `import { pumerTsup } from '../../tools/config/tsup.base.ts';

export default pumerTsup(['src/index.ts']);
`,
);
write(
  'vitest.config.ts',
  `import { pumerProject } from '../../tools/config/vitest.base.ts';

export default pumerProject('${name}');
`,
);
