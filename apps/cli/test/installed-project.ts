import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';
import { installBlocks, ROOT } from './readme-blocks.js';

/**
 * The user's project, made by running the install block of docs/install.md as written (every package README
 * repeats it word for word; readme-examples.test.ts checks that). Made once per test run and shared by the
 * test files that use it: the first caller installs, the others wait for it.
 */

/** The packages the install block packs (every workspace package but the private ones). */
export const PACKAGES = [
  'packages/core',
  'packages/backend-cpu',
  'packages/vilt',
  'packages/meter',
  'packages/onnx',
  'packages/backend-node',
  'packages/backend-webgpu',
  'packages/pumer',
  'tools/parity',
  'apps/cli',
];

/** The block's lines that set up the clone itself; the test checks their result (a fresh dist/) instead. */
export const CLONE_SETUP = ['npx pnpm@10.34.8 install', 'npx pnpm@10.34.8 build'];

const TOP_LEVEL = ['packages', 'apps', 'tools'];
const ROOT_FILES = ['package.json', 'pnpm-workspace.yaml'];

/**
 * The environment of a user's shell: nothing that decides onnxruntime-node's install script (the block must
 * say it) or skips install scripts; quiet npm.
 */
export function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    npm_config_update_notifier: 'false',
    npm_config_prefer_offline: 'true',
    NO_COLOR: '1',
  };
  for (const key of Object.keys(env)) {
    if (/^(ONNXRUNTIME_NODE_INSTALL|npm_config_(ignore_scripts|onnxruntime_node_install))/i.test(key))
      delete env[key];
  }
  return env;
}

export function sh(cmd: string, args: string[], cwd: string, timeout = 300_000): string {
  try {
    return execFileSync(cmd, args, {
      cwd,
      env: userEnv(),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 << 20,
      timeout,
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${cmd} ${args.join(' ')} (in ${cwd}) failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`,
    );
  }
}

/** Newest modification time of the non-test sources under `dir`. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || /\.test\.ts$/.test(entry.name)) continue;
    newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** What `npx pnpm@10.34.8 install` and `build` leave behind: a dist/ of every package, newer than its src/. */
function checkBuilt(): void {
  const build = `run \`npx pnpm@10.34.8 build\` in ${ROOT} first (\`npm test\` does it for you)`;
  for (const pkg of PACKAGES) {
    // The umbrella has no index: its entries are node, browser and loaders.
    const entry = path.join(ROOT, pkg, 'dist', pkg === 'packages/pumer' ? 'node.js' : 'index.js');
    if (!existsSync(entry)) throw new Error(`${pkg}/dist is missing: ${build}`);
    // A stale dist would test yesterday's code: the packed tarball must be what the sources say.
    if (newestSource(path.join(ROOT, pkg, 'src')) > statSync(entry).mtimeMs)
      throw new Error(`${pkg}/dist is older than its src/: ${build}`);
  }
}

/** The install block's commands after the clone's own setup, as one shell script. */
export function installScript(): string {
  const [block, ...more] = installBlocks('docs/install.md');
  if (!block || more.length) throw new Error('docs/install.md must have exactly one ```sh install block');
  const lines = block.code.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
  for (const setup of CLONE_SETUP)
    if (!lines.includes(setup)) throw new Error(`the install block no longer says \`${setup}\``);
  return lines.filter((l) => !CLONE_SETUP.includes(l)).join('\n');
}

function install(scratch: string): string {
  checkBuilt();
  // A stand-in for the clone: the workspace's packages (linked, so nothing is copied) and its root files.
  // The block's relative paths (../tarballs, ../my-app) then land in the scratch folder.
  const clone = path.join(scratch, 'pumer-js');
  mkdirSync(clone);
  for (const dir of TOP_LEVEL) symlinkSync(path.join(ROOT, dir), path.join(clone, dir), 'dir');
  for (const file of ROOT_FILES) copyFileSync(path.join(ROOT, file), path.join(clone, file));
  // As written, in one shell that stops at the first failure; `pwd` says where the block left the user.
  const out = sh('bash', ['-e', '-c', `${installScript()}\npwd`], clone, 540_000);
  return out.trim().split('\n').at(-1)!;
}

let project: Promise<string> | undefined;

/** The installed project's folder (installs it on the first call of the run). */
export function installedProject(): Promise<string> {
  project ??= shared(inject('pumerScratchRoot'));
  return project;
}

async function shared(scratch: string): Promise<string> {
  const result = path.join(scratch, 'project.json');
  let mine = true;
  try {
    mkdirSync(path.join(scratch, 'lock'));
  } catch {
    mine = false;
  }
  if (mine) {
    let outcome: { dir?: string; error?: string };
    try {
      outcome = { dir: install(scratch) };
    } catch (err) {
      outcome = { error: (err as Error).message };
    }
    // Written whole, then renamed: a waiting worker never reads half of it.
    writeFileSync(`${result}.tmp`, JSON.stringify(outcome));
    renameSync(`${result}.tmp`, result);
  }
  for (const start = Date.now(); !existsSync(result); ) {
    if (Date.now() - start > 600_000) throw new Error(`gave up waiting for ${result}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const outcome = JSON.parse(readFileSync(result, 'utf8')) as { dir?: string; error?: string };
  if (!outcome.dir) throw new Error(`installing from the README failed: ${outcome.error}`);
  return outcome.dir;
}
