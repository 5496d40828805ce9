import { PumerError } from '@pumer/core';

/**
 * A restricted reader of Python pickles, for the `data.pkl` that `torch.save` writes (protocol 2; a few
 * protocol-4 opcodes are accepted as well). It never runs anything: GLOBAL only resolves names the caller
 * allow-lists (any other name is refused, naming it), and REDUCE only applies the JavaScript implementation the
 * caller gives for an allow-listed name. Python values become: None → null, bool → boolean, int → number
 * (bigint beyond 2^53), float → number, str → string, list → array, tuple → frozen array, dict → Map.
 */

/** What an allow-listed global stands for. */
export interface PickleGlobal {
  /** For REDUCE: builds the value from the argument tuple. Without it the global is data only (a class marker). */
  readonly call?: (args: readonly unknown[]) => unknown;
  /** For BUILD on a value this global's `call` returned: applies the state (or refuses it by throwing). */
  readonly build?: (target: unknown, state: unknown) => void;
}

export interface UnpickleOptions {
  /** Names the file in error messages. */
  readonly source: string;
  /**
   * The allow-list, keyed by "module.name". A name it does not hold is refused; `resolveGlobal` may answer
   * a name first (to refuse it with a more specific message, say).
   */
  readonly globals: ReadonlyMap<string, PickleGlobal>;
  readonly resolveGlobal?: (qualifiedName: string) => PickleGlobal | undefined;
  /** BINPERSID: the object a persistent id stands for. Without it persistent ids are refused. */
  readonly persistentLoad?: (pid: unknown) => unknown;
}

/** A resolved global on the stack, waiting for REDUCE (or passed as data, e.g. a storage class). */
export class PickleGlobalRef {
  constructor(
    readonly name: string,
    readonly global: PickleGlobal,
  ) {}
}

const OP_NAMES: Record<number, string> = {
  128: 'PROTO',
  149: 'FRAME',
  46: 'STOP',
  40: 'MARK',
  125: 'EMPTY_DICT',
  93: 'EMPTY_LIST',
  41: 'EMPTY_TUPLE',
  116: 'TUPLE',
  133: 'TUPLE1',
  134: 'TUPLE2',
  135: 'TUPLE3',
  88: 'BINUNICODE',
  140: 'SHORT_BINUNICODE',
  74: 'BININT',
  75: 'BININT1',
  77: 'BININT2',
  138: 'LONG1',
  71: 'BINFLOAT',
  136: 'NEWTRUE',
  137: 'NEWFALSE',
  78: 'NONE',
  99: 'GLOBAL',
  147: 'STACK_GLOBAL',
  82: 'REDUCE',
  113: 'BINPUT',
  114: 'LONG_BINPUT',
  148: 'MEMOIZE',
  104: 'BINGET',
  106: 'LONG_BINGET',
  81: 'BINPERSID',
  115: 'SETITEM',
  117: 'SETITEMS',
  97: 'APPEND',
  101: 'APPENDS',
  98: 'BUILD',
};

/** Reads a pickle and returns its value. Every malformed or disallowed input is a PumerError (CHECKPOINT). */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): unknown {
  const { source } = options;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;
  let opAt = 0;

  const fail = (message: string): never => {
    throw new PumerError('CHECKPOINT', `${source}: pickle byte ${opAt}: ${message}`);
  };
  const take = (n: number): number => {
    if (pos + n > bytes.length) fail(`truncated (needs ${n} more bytes, ${bytes.length - pos} left)`);
    const at = pos;
    pos += n;
    return at;
  };
  const pop = (): unknown => {
    const floor = marks.length > 0 ? marks[marks.length - 1] : 0;
    if (stack.length <= floor) fail('stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    const floor = marks.length > 0 ? marks[marks.length - 1] : 0;
    if (stack.length <= floor) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const mark = marks.pop();
    if (mark === undefined) fail('no MARK to pop to');
    return stack.splice(mark as number);
  };
  const text = (n: number): string => {
    const at = take(n);
    try {
      return utf8.decode(bytes.subarray(at, at + n));
    } catch {
      return fail('string is not valid UTF-8');
    }
  };
  const tuple = (items: unknown[]): readonly unknown[] => Object.freeze(items);
  const resolve = (name: string): PickleGlobalRef => {
    const g =
      options.resolveGlobal?.(name) ?? (options.globals.has(name) ? options.globals.get(name) : undefined);
    if (!g) {
      fail(
        `refusing the global "${name}": a saved state dict only refers to ${[...options.globals.keys()].join(', ')}`,
      );
    }
    return new PickleGlobalRef(name, g as PickleGlobal);
  };
  const dict = (v: unknown, op: string): Map<unknown, unknown> => {
    if (!(v instanceof Map)) fail(`${op} on a ${describe(v)}, expected a dict`);
    return v as Map<unknown, unknown>;
  };
  const list = (v: unknown, op: string): unknown[] => {
    if (!Array.isArray(v) || Object.isFrozen(v)) fail(`${op} on a ${describe(v)}, expected a list`);
    return v as unknown[];
  };
  const memoGet = (key: number): unknown => {
    if (!memo.has(key)) fail(`memo ${key} was never stored`);
    return memo.get(key);
  };
  const built = new Map<unknown, PickleGlobalRef>();

  for (;;) {
    opAt = pos;
    const op = bytes[take(1)];
    switch (op) {
      case 0x80: {
        const proto = bytes[take(1)];
        if (proto > 5) fail(`unsupported pickle protocol ${proto}`);
        break;
      }
      case 0x95: // FRAME: a length hint only
        take(8);
        break;
      case 0x2e: {
        const value = pop();
        if (marks.length > 0) fail('STOP with an open MARK');
        return value;
      }
      case 0x28:
        marks.push(stack.length);
        break;
      case 0x7d:
        stack.push(new Map());
        break;
      case 0x5d:
        stack.push([]);
        break;
      case 0x29:
        stack.push(tuple([]));
        break;
      case 0x74:
        stack.push(tuple(popMark()));
        break;
      case 0x85: {
        const a = pop();
        stack.push(tuple([a]));
        break;
      }
      case 0x86: {
        const b = pop();
        const a = pop();
        stack.push(tuple([a, b]));
        break;
      }
      case 0x87: {
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(tuple([a, b, c]));
        break;
      }
      case 0x58:
        stack.push(text(view.getUint32(take(4), true)));
        break;
      case 0x8c:
        stack.push(text(bytes[take(1)]));
        break;
      case 0x4a:
        stack.push(view.getInt32(take(4), true));
        break;
      case 0x4b:
        stack.push(bytes[take(1)]);
        break;
      case 0x4d:
        stack.push(view.getUint16(take(2), true));
        break;
      case 0x8a: {
        const n = bytes[take(1)];
        const at = take(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[at + i]);
        if (n > 0 && bytes[at + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(
          v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v,
        );
        break;
      }
      case 0x47:
        stack.push(view.getFloat64(take(8), false));
        break;
      case 0x88:
        stack.push(true);
        break;
      case 0x89:
        stack.push(false);
        break;
      case 0x4e:
        stack.push(null);
        break;
      case 0x63: {
        const module = line();
        const name = line();
        stack.push(resolve(`${module}.${name}`));
        break;
      }
      case 0x93: {
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(resolve(`${module}.${name}`));
        break;
      }
      case 0x52: {
        const args = pop();
        const callable = pop();
        if (!(callable instanceof PickleGlobalRef))
          fail(`REDUCE on a ${describe(callable)}, expected a global`);
        const ref = callable as PickleGlobalRef;
        if (!ref.global.call) fail(`"${ref.name}" is not something a state dict calls`);
        if (!Array.isArray(args) || !Object.isFrozen(args)) fail(`REDUCE arguments must be a tuple`);
        const value = ref.global.call?.(args as unknown[]);
        if (value !== null && typeof value === 'object') built.set(value, ref);
        stack.push(value);
        break;
      }
      case 0x71:
        memo.set(bytes[take(1)], top());
        break;
      case 0x72:
        memo.set(view.getUint32(take(4), true), top());
        break;
      case 0x94:
        memo.set(memo.size, top());
        break;
      case 0x68:
        stack.push(memoGet(bytes[take(1)]));
        break;
      case 0x6a:
        stack.push(memoGet(view.getUint32(take(4), true)));
        break;
      case 0x51: {
        const pid = pop();
        if (!options.persistentLoad) fail('persistent ids are not expected here');
        stack.push(options.persistentLoad?.(pid));
        break;
      }
      case 0x73: {
        const value = pop();
        const key = pop();
        dict(top(), 'SETITEM').set(key, value);
        break;
      }
      case 0x75: {
        const items = popMark();
        if (items.length % 2 !== 0) fail('SETITEMS with an odd number of items');
        const d = dict(top(), 'SETITEMS');
        for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
        break;
      }
      case 0x61: {
        const value = pop();
        list(top(), 'APPEND').push(value);
        break;
      }
      case 0x65: {
        const items = popMark();
        list(top(), 'APPENDS').push(...items);
        break;
      }
      case 0x62: {
        const state = pop();
        const target = top();
        const ref = built.get(target);
        if (!ref?.global.build) fail(`BUILD on a ${describe(target)} is not something a state dict does`);
        ref?.global.build?.(target, state);
        break;
      }
      default:
        fail(
          op in OP_NAMES
            ? `opcode ${OP_NAMES[op]} is not expected here`
            : `opcode 0x${op.toString(16).padStart(2, '0')} is not one a saved state dict uses`,
        );
    }
  }

  /** The newline-terminated ASCII argument of GLOBAL. */
  function line(): string {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0 || end - pos > 256) fail('GLOBAL name is not terminated');
    const at = take(end - pos);
    take(1);
    const s = String.fromCharCode(...bytes.subarray(at, end));
    if (!/^[A-Za-z_][\w.]*$/.test(s)) fail(`GLOBAL name ${JSON.stringify(s)} is malformed`);
    return s;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'None';
  if (v instanceof Map) return 'dict';
  if (Array.isArray(v)) return Object.isFrozen(v) ? 'tuple' : 'list';
  if (v instanceof PickleGlobalRef) return `global ${v.name}`;
  if (typeof v === 'object') return v.constructor?.name ?? 'object';
  return typeof v;
}
