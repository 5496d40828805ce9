import { fileURLToPath } from 'node:url';
import { defineProject, type UserWorkspaceConfig } from 'vitest/config';

/** Workspace packages resolve to their `src/` through this export condition, so tests need no build. */
const SOURCE_CONDITIONS = ['@pumer/source'];

/** Gives every run a temporary graph cache (test-graph-cache.ts): tests never write into ~/.cache. */
const GRAPH_CACHE_SETUP = fileURLToPath(new URL('./test-graph-cache.ts', import.meta.url));

/**
 * One package's test project in the root vitest run: named after the package, tests beside the code in
 * `src/` or in `test/`. `overrides.test` is merged into the test options (its globalSetup runs after the
 * graph cache's); other keys replace the base.
 */
export function pumerProject(name: string, overrides: UserWorkspaceConfig = {}): UserWorkspaceConfig {
  const { test, ...rest } = overrides;
  return defineProject({
    resolve: { conditions: SOURCE_CONDITIONS },
    ssr: { resolve: { conditions: SOURCE_CONDITIONS } },
    ...rest,
    test: {
      name,
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      ...test,
      globalSetup: [GRAPH_CACHE_SETUP, ...[test?.globalSetup ?? []].flat()],
    },
  });
}
