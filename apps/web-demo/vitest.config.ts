import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@pumer/source'] },
  ssr: { resolve: { conditions: ['@pumer/source'] } },
  test: { name: '@pumer/web-demo', include: ['src/**/*.test.ts', 'test/**/*.test.ts'] },
});
