import { describe, expect, it } from 'vitest';
import { decideLease, type Lease, nextLease } from './leader.ts';

const now = new Date('2026-01-01T00:00:30Z');
const lease = (holder: string, renewTime = '2026-01-01T00:00:25.000000Z', duration = 15): Lease => ({
  metadata: { name: 'fedctl-controller', namespace: 'ns', resourceVersion: '7' },
  spec: {
    holderIdentity: holder,
    leaseDurationSeconds: duration,
    renewTime,
    acquireTime: '2026-01-01T00:00:00.000000Z',
    leaseTransitions: 2,
  },
});
const o = { namespace: 'ns', name: 'fedctl-controller', identity: 'me', leaseDurationMs: 15_000 };

describe('decideLease', () => {
  it('creates the lease when there is none', () => {
    expect(decideLease(undefined, 'me', now)).toEqual({ action: 'create' });
  });
  it('renews a lease it holds', () => {
    expect(decideLease(lease('me'), 'me', now)).toEqual({ action: 'renew' });
  });
  it('waits while another holder renews in time', () => {
    expect(decideLease(lease('other'), 'me', now)).toEqual({ action: 'wait', holder: 'other' });
  });
  it('takes over a lease that expired', () => {
    expect(decideLease(lease('other', '2026-01-01T00:00:10.000000Z'), 'me', now)).toEqual({
      action: 'takeover',
    });
  });
  it('takes over a released lease (no holder) or one without a readable time', () => {
    expect(decideLease(lease(''), 'me', now)).toEqual({ action: 'takeover' });
    expect(decideLease({ spec: { holderIdentity: 'other' } }, 'me', now)).toEqual({ action: 'takeover' });
  });
});

describe('nextLease', () => {
  it('keeps acquireTime and transitions on renew, with the stored resourceVersion', () => {
    const l = nextLease(lease('me'), { action: 'renew' }, o, now);
    expect(l.metadata?.resourceVersion).toBe('7');
    expect(l.spec).toEqual({
      holderIdentity: 'me',
      leaseDurationSeconds: 15,
      acquireTime: '2026-01-01T00:00:00.000000Z',
      renewTime: '2026-01-01T00:00:30.000000Z',
      leaseTransitions: 2,
    });
  });
  it('counts a transition and resets acquireTime on takeover', () => {
    const l = nextLease(lease('other', '2026-01-01T00:00:01.000000Z'), { action: 'takeover' }, o, now);
    expect(l.spec?.leaseTransitions).toBe(3);
    expect(l.spec?.acquireTime).toBe('2026-01-01T00:00:30.000000Z');
  });
  it('creates a fresh lease with MicroTime timestamps', () => {
    expect(nextLease(undefined, { action: 'create' }, o, now).spec).toMatchObject({
      holderIdentity: 'me',
      leaseTransitions: 0,
      renewTime: '2026-01-01T00:00:30.000000Z',
    });
  });
});
