#!/usr/bin/env node
// The README's two commands land here, on a machine that has only Node 20 and npm:
//   npm start [-- pumer-run flags]   answers a question with the embedded default model
//   npm test                          installs what the suite needs, then runs lint, typecheck, build and every test
// pnpm is not assumed: it runs through `npx pnpm@<packageManager version>`. Plain Node, no dependencies.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const pnpmVersion = pkg.packageManager.replace(/^pnpm@/, '');
const [task, ...rest] = process.argv.slice(2);
const args = rest[0] === '--' ? rest.slice(1) : rest;

const env = {
  ...process.env,
  // onnxruntime-node's optional install script fetches CUDA binaries from a feed outside the npm registry.
  ONNXRUNTIME_NODE_INSTALL: process.env.ONNXRUNTIME_NODE_INSTALL ?? 'skip',
  npm_config_update_notifier: 'false',
  npm_config_loglevel: process.env.npm_config_loglevel ?? 'error',
  TURBO_TELEMETRY_DISABLED: '1',
};

function run(cmd, cmdArgs, opts = {}) {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', env, ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function pnpm(cmdArgs, opts) {
  return run('npx', ['-y', `pnpm@${pnpmVersion}`, ...cmdArgs], opts);
}

function must(status, what) {
  if (status !== 0) {
    console.error(`\n${what} failed (exit ${status}).`);
    process.exit(status || 1);
  }
}

function step(title) {
  console.log(`\n== ${title}`);
}

function install() {
  step(`install dependencies (pnpm ${pnpmVersion})`);
  must(pnpm(['install', '--frozen-lockfile', '--reporter=append-only']), 'pnpm install');
}

// Chromium (headless browser tests) and the Vulkan loader (Dawn's WebGPU on SwiftShader) come from Debian.
// Only those two packages, without recommended ones; apt waits for a package lock another process holds.
const SYSTEM_PACKAGES = [
  [
    'chromium',
    'the browser tests (web demo, WebGPU in Chromium) and SwiftShader, the software Vulkan driver',
  ],
  ['libvulkan1', "the Vulkan loader that Dawn's WebGPU in Node needs to reach SwiftShader"],
];

function systemPackages() {
  step('system packages for the browser and WebGPU tests');
  const hasChromium = existsSync('/usr/bin/chromium');
  const ldconfig = spawnSync('sh', ['-c', 'ldconfig -p 2>/dev/null | grep -q "libvulkan.so.1"']);
  const hasVulkan = ldconfig.status === 0;
  if (hasChromium && hasVulkan) {
    console.log('chromium and libvulkan1 present');
    return;
  }
  const names = SYSTEM_PACKAGES.map(([name]) => name).join(' ');
  const lock = '-o DPkg::Lock::Timeout=600';
  const command = `apt-get ${lock} update && apt-get ${lock} install -y --no-install-recommends ${names}`;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = spawnSync('sh', ['-c', 'command -v apt-get']).status === 0;
  if (!isRoot || !hasApt) {
    console.error(
      `The browser and WebGPU tests need Chromium and the Vulkan loader. Install them with:\n  sudo ${command.replace('&& apt-get', '&& sudo apt-get')}`,
    );
    process.exit(1);
  }
  console.log('installing (waiting for the package lock if another process holds it):');
  for (const [name, why] of SYSTEM_PACKAGES) console.log(`  ${name}: ${why}`);
  console.log(`  ${command}`);
  must(run('sh', ['-c', `DEBIAN_FRONTEND=noninteractive ${command}`]), `apt-get install ${names}`);
}

function build() {
  step('build every package (turbo, tsup)');
  must(pnpm(['exec', 'turbo', 'run', 'build', '--output-logs=errors-only']), 'build');
}

function test() {
  install();
  systemPackages();
  step('lint (biome)');
  must(pnpm(['exec', 'biome', 'check', '.']), 'lint');
  build();
  step('typecheck (tsc, every package)');
  must(pnpm(['exec', 'turbo', 'run', 'typecheck', '--output-logs=errors-only']), 'typecheck');
  step('tests (vitest, every package)');
  mkdirSync(join(root, '.cache'), { recursive: true });
  const report = join(root, '.cache', 'vitest-report.json');
  const status = pnpm([
    'exec',
    'vitest',
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
    ...args,
  ]);
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  if (existsSync(report)) {
    const r = JSON.parse(readFileSync(report, 'utf8'));
    passed = r.numPassedTests ?? 0;
    // A test file that fails before any test runs (an import error, a failed beforeAll) counts as one failure.
    const brokenFiles = (r.testResults ?? []).filter(
      (f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'),
    ).length;
    failed = (r.numFailedTests ?? 0) + brokenFiles;
    skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  } else if (status !== 0) {
    failed = 1;
  }
  // The plain closing line CI reads.
  console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(status !== 0 || failed > 0 || passed === 0 ? 1 : 0);
}

function start() {
  install();
  build();
  const bin = join(root, 'apps', 'cli', 'dist', 'bin.js');
  process.exit(run(process.execPath, [bin, 'run', ...args]));
}

switch (task) {
  case 'test':
    test();
    break;
  case 'start':
    start();
    break;
  default:
    console.error('usage: node tools/setup/run.mjs start|test [-- args]');
    process.exit(2);
}
