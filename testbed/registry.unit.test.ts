import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listRegistered, register, registryDir, unregister } from './registry.ts';

describe('testbed registry', () => {
  it('lives in the fedctl cache unless FEDCTL_TESTBED_REGISTRY says otherwise', () => {
    expect(registryDir({ FEDCTL_TESTBED_REGISTRY: '/r' })).toBe('/r');
    expect(registryDir({ FEDCTL_CACHE: '/c' })).toBe('/c/testbeds');
    expect(registryDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/fedctl/testbeds');
  });

  it('registers, lists oldest first, skips garbage and unregisters', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedctl-reg-'));
    await register({ id: 'bb01', stateDir: '/b', createdAt: '2026-01-02T00:00:00Z', owner: null }, dir);
    await register(
      { id: 'aa01', stateDir: '/a', createdAt: '2026-01-01T00:00:00Z', owner: { pid: 1, startTicks: 5 } },
      dir,
    );
    writeFileSync(join(dir, 'broken.json'), '{');
    expect(listRegistered(dir).map((e) => e.id)).toEqual(['aa01', 'bb01']);
    await unregister('aa01', dir);
    expect(listRegistered(dir).map((e) => e.id)).toEqual(['bb01']);
    expect(listRegistered(join(dir, 'missing'))).toEqual([]);
  });
});
