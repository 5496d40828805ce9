import { PumerError } from '@pumer/core';
import { describe, expect, it, vi } from 'vitest';
import { PickleBuilder } from '../testing/torch-save.js';
import { type PickleGlobal, PickleGlobalRef, unpickle } from './unpickle.js';

function run(bytes: Uint8Array, globals = new Map<string, PickleGlobal>()): unknown {
  return unpickle(bytes, { source: 'data.pkl', globals });
}

function refusal(bytes: Uint8Array, globals?: Map<string, PickleGlobal>): string {
  try {
    run(bytes, globals);
  } catch (err) {
    expect(err).toBeInstanceOf(PumerError);
    expect((err as PumerError).code).toBe('CHECKPOINT');
    return (err as Error).message;
  }
  throw new Error('expected a PumerError');
}

const p = () => new PickleBuilder().proto();

describe('restricted unpickler', () => {
  it('reads the Python values a state dict is made of', () => {
    const bytes = p()
      .raw(0x7d) // {}
      .raw(0x28)
      .str('ints')
      .tuple((b) =>
        b.int(7).int(300).int(-5).raw(0x8a, 2, 0x00, 0xff).raw(0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1),
      )
      .str('misc')
      .raw(0x5d, 0x28, 0x4e, 0x88, 0x89, 0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0x65) // [None, True, False, 1.5]
      .str('memo')
      .raw(0x8c, 2, 0x68, 0x69, 0x71, 5, 0x68, 5, 0x86) // ('hi', 'hi') via BINPUT/BINGET
      .raw(0x75)
      .stop()
      .bytes();
    const v = run(bytes) as Map<string, unknown>;
    // BININT(-5) is written as 4 bytes by the builder; LONG1 0xff00 is -256; the 9-byte LONG1 is 2^64.
    expect(v.get('ints')).toEqual([7, 300, -5, -256, 2n ** 64n]);
    expect(Object.isFrozen(v.get('ints'))).toBe(true);
    expect(v.get('misc')).toEqual([null, true, false, 1.5]);
    expect(v.get('memo')).toEqual(['hi', 'hi']);
  });

  it('refuses a global outside the allow-list by name, and never calls anything', () => {
    const allowed = vi.fn(() => new Map());
    const globals = new Map<string, PickleGlobal>([['collections.OrderedDict', { call: allowed }]]);
    const system = p()
      .global('os', 'system')
      .tuple((b) => b.str('echo pwned'))
      .reduce()
      .stop()
      .bytes();
    expect(refusal(system, globals)).toMatch(/refusing the global "os.system".*collections.OrderedDict/);
    // protocol 4's STACK_GLOBAL goes through the same allow-list
    const evalViaStack = p().str('builtins').str('eval').raw(0x93).stop().bytes();
    expect(refusal(evalViaStack, globals)).toMatch(/refusing the global "builtins.eval"/);
    expect(refusal(p().global('subprocess', 'Popen').stop().bytes(), globals)).toMatch(/subprocess.Popen/);
    expect(allowed).not.toHaveBeenCalled();
  });

  it('refuses opcodes that build arbitrary objects or are not part of a state dict', () => {
    // INST and OBJ instantiate classes; NEWOBJ calls cls.__new__; EXT1 reads the extension registry.
    for (const [op, name] of [
      [0x69, /0x69/],
      [0x6f, /0x6f/],
      [0x81, /0x81/],
      [0x82, /0x82/],
    ] as const) {
      expect(refusal(p().raw(op).stop().bytes())).toMatch(name);
    }
  });

  it('applies REDUCE only to allow-listed callables and BUILD only where allowed', () => {
    const marker = new Map<string, PickleGlobal>([['torch.FloatStorage', {}]]);
    expect(refusal(p().global('torch', 'FloatStorage').emptyTuple().reduce().stop().bytes(), marker)).toMatch(
      /"torch.FloatStorage" is not something a state dict calls/,
    );
    expect(refusal(p().str('x').emptyTuple().reduce().stop().bytes())).toMatch(/REDUCE on a string/);
    expect(refusal(p().raw(0x7d, 0x7d).raw(0x62).stop().bytes())).toMatch(/BUILD on a dict/);
    const ref = run(p().global('torch', 'FloatStorage').stop().bytes(), marker);
    expect(ref).toBeInstanceOf(PickleGlobalRef);
  });

  it('refuses malformed pickles with the byte position', () => {
    expect(refusal(p().str('abc').bytes())).toMatch(/truncated/);
    expect(refusal(p().raw(0x58, 10, 0, 0, 0, 0x61).bytes())).toMatch(/pickle byte 2: truncated/);
    expect(refusal(p().raw(0x68, 3).stop().bytes())).toMatch(/memo 3 was never stored/);
    expect(refusal(p().raw(0x74).stop().bytes())).toMatch(/no MARK/);
    expect(refusal(p().stop().bytes())).toMatch(/stack underflow/);
    expect(refusal(p().raw(0x51).stop().bytes())).toMatch(/stack underflow/);
    expect(refusal(p().int(1).raw(0x51).stop().bytes())).toMatch(/persistent ids are not expected/);
    expect(refusal(p().raw(0x5d).int(1).int(2).raw(0x73).stop().bytes())).toMatch(/SETITEM on a list/);
    expect(refusal(p().raw(0x63, 0x6f, 0x73).bytes())).toMatch(/not terminated/);
    expect(refusal(Uint8Array.from([0x80, 9, 0x2e]))).toMatch(/unsupported pickle protocol 9/);
  });
});
