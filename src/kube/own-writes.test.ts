import { describe, expect, it } from 'vitest';
import { OwnWrites } from './own-writes.ts';

const answer = (rv: string) => Promise.resolve({ metadata: { resourceVersion: rv } });

/** A write whose answer the test releases by hand. */
function pendingWrite(rv: string) {
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const send = async () => {
    await gate;
    return { metadata: { resourceVersion: rv } };
  };
  return { send, release: () => release() };
}

describe('OwnWrites', () => {
  it('recognises the event carrying the resourceVersion a write of ours returned, once', async () => {
    const missed: string[] = [];
    const w = new OwnWrites((k) => missed.push(k));
    await w.write('ns/a', 'cluster1', () => answer('100'));
    expect(w.isEcho('ns/a', 'cluster1', '100')).toBe(true);
    expect(w.isEcho('ns/a', 'cluster1', '100')).toBe(false);
    expect(w.size).toBe(0);
    expect(missed).toEqual([]);
  });

  it('does not take another version, another place or another object for an echo', async () => {
    const w = new OwnWrites(() => undefined);
    await w.write('ns/a', 'cluster1', () => answer('100'));
    expect(w.isEcho('ns/a', 'cluster1', '101')).toBe(false);
    expect(w.isEcho('ns/a', 'cluster2', '100')).toBe(false);
    expect(w.isEcho('ns/b', 'cluster1', '100')).toBe(false);
    expect(w.isEcho('ns/a', 'cluster1', undefined)).toBe(false);
    expect(w.isEcho('ns/a', 'cluster1', '100')).toBe(true);
  });

  it('recognises an echo that arrives before the answer of its write', async () => {
    const missed: string[] = [];
    const w = new OwnWrites((k) => missed.push(k));
    const p = pendingWrite('100');
    const written = w.write('ns/a', 'c', p.send);
    expect(w.isEcho('ns/a', 'c', '100')).toBe(true);
    p.release();
    await written;
    expect(missed).toEqual([]);
    expect(w.size).toBe(0);
  });

  it('enqueues once the answer shows that an event held during the write was somebody else’s change', async () => {
    const missed: string[] = [];
    const w = new OwnWrites((k) => missed.push(k));
    const p = pendingWrite('102');
    const written = w.write('ns/a', 'c', p.send);
    expect(w.isEcho('ns/a', 'c', '101')).toBe(true);
    expect(missed).toEqual([]);
    p.release();
    await written;
    expect(missed).toEqual(['ns/a']);
    // The write's own echo is still to come and still recognised.
    expect(w.isEcho('ns/a', 'c', '102')).toBe(true);
  });

  it('enqueues the events held during a write that failed, and rethrows its error', async () => {
    const missed: string[] = [];
    const w = new OwnWrites((k) => missed.push(k));
    let fail!: (e: Error) => void;
    const written = w.write('ns/a', 'c', () => new Promise<never>((_, reject) => (fail = reject)));
    expect(w.isEcho('ns/a', 'c', '7')).toBe(true);
    fail(new Error('conflict'));
    await expect(written).rejects.toThrow('conflict');
    expect(missed).toEqual(['ns/a']);
    expect(w.size).toBe(0);
  });

  it('keeps several writes to one object (a finalizer, then a status) until each echo is seen', async () => {
    const w = new OwnWrites(() => undefined);
    await w.write('ns/a', 'host', () => answer('7'));
    await w.write('ns/a', 'host', () => answer('9'));
    expect(w.isEcho('ns/a', 'host', '9')).toBe(true);
    expect(w.isEcho('ns/a', 'host', '7')).toBe(true);
    expect(w.size).toBe(0);
  });

  it('remembers at most four unseen writes per object and place, dropping the oldest', async () => {
    const w = new OwnWrites(() => undefined);
    for (const rv of ['1', '2', '3', '4', '5']) await w.write('ns/a', 'c', () => answer(rv));
    expect(w.isEcho('ns/a', 'c', '1')).toBe(false);
    for (const rv of ['2', '3', '4', '5']) expect(w.isEcho('ns/a', 'c', rv)).toBe(true);
  });

  it('forgets an object whose echoes will never come', async () => {
    const w = new OwnWrites(() => undefined);
    await w.write('ns/a', 'c', () => answer('1'));
    await w.write('ns/b', 'c', () => answer('2'));
    w.forget('ns/a');
    expect(w.size).toBe(1);
    expect(w.isEcho('ns/a', 'c', '1')).toBe(false);
  });

  it('ignores an answer without a resourceVersion (nothing to recognise)', async () => {
    const w = new OwnWrites(() => undefined);
    await w.write('ns/a', 'c', () => Promise.resolve({ metadata: {} }));
    expect(w.size).toBe(0);
  });
});
