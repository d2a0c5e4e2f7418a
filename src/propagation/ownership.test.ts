import { describe, expect, it } from 'vitest';
import {
  type CopyFact,
  decideMember,
  type FederatedState,
  type MemberAction,
  type MemberFacts,
  type PlacementFact,
} from './ownership.ts';

// Every combination of what fedctl can know about one member, checked against the safety rule
// written independently of the implementation, plus the exact action for the cases users meet.

const FEDS: FederatedState[] = [
  { phase: 'absent' },
  { phase: 'live', uid: 'u1' },
  { phase: 'deleting', uid: 'u1', orphan: false },
  { phase: 'deleting', uid: 'u1', orphan: true },
];
const PLACEMENTS: PlacementFact[] = ['placed', 'unplaced', 'unknown'];
const COPIES: CopyFact[] = [
  { state: 'unknown' },
  { state: 'absent' },
  { state: 'present', deleting: false, ownerUid: 'u1' },
  { state: 'present', deleting: false, ownerUid: 'other' },
  { state: 'present', deleting: false },
  { state: 'present', deleting: true, ownerUid: 'u1' },
  { state: 'present', deleting: false, ownerUid: 'u1', hostNamespace: true },
  { state: 'present', deleting: true, ownerUid: 'u1', hostNamespace: true },
  { state: 'present', deleting: false, ownerUid: 'u1', hostNamespace: 'unknown' },
];
const CLUSTER: Array<Pick<MemberFacts, 'clusterReady' | 'notReadyCode'>> = [
  { clusterReady: true },
  { clusterReady: false, notReadyCode: 'ClusterNotReady' },
  { clusterReady: false, notReadyCode: 'CachedRetrievalFailed' },
];

const all: MemberFacts[] = [];
for (const fed of FEDS)
  for (const placement of PLACEMENTS)
    for (const copy of COPIES)
      for (const cluster of CLUSTER)
        for (const protectedNamespace of [false, true])
          all.push({ fed, placement, copy, ...cluster, protectedNamespace });

const writes = (a: MemberAction) => a.action === 'apply' || a.action === 'delete' || a.action === 'unlabel';
const label = (f: MemberFacts) => JSON.stringify(f);

describe('decideMember over every combination', () => {
  it(`covers ${all.length} combinations`, () => {
    expect(all.length).toBe(4 * 3 * 9 * 3 * 2);
  });

  it.each(all.map((f) => [label(f), f] as const))(
    'deletes only on certain intent and ownership: %s',
    (_l, f) => {
      const a = decideMember(f);
      if (a.action !== 'delete') return;
      expect(f.clusterReady).toBe(true);
      expect(f.protectedNamespace).toBe(false);
      expect(f.copy).toMatchObject({ state: 'present', deleting: false, ownerUid: 'u1' });
      expect(f.copy.state === 'present' && f.copy.hostNamespace).toBeFalsy();
      const intent =
        (f.fed.phase === 'deleting' && !f.fed.orphan) ||
        (f.fed.phase === 'live' && f.placement === 'unplaced');
      expect(intent).toBe(true);
    },
  );

  it.each(all.map((f) => [label(f), f] as const))('writes nothing to an unready cluster: %s', (_l, f) => {
    if (!f.clusterReady) expect(writes(decideMember(f))).toBe(false);
  });

  it.each(all.map((f) => [label(f), f] as const))('writes nothing for a protected namespace: %s', (_l, f) => {
    if (f.protectedNamespace) expect(decideMember(f)).toEqual({ action: 'none' });
  });

  it.each(all.map((f) => [label(f), f] as const))(
    'waits on an unknown placement of a live object: %s',
    (_l, f) => {
      if (f.fed.phase === 'live' && f.placement === 'unknown') expect(writes(decideMember(f))).toBe(false);
    },
  );

  it.each(all.map((f) => [label(f), f] as const))('never deletes a stray, only unlabels it: %s', (_l, f) => {
    if (f.fed.phase !== 'absent') return;
    const a = decideMember(f);
    expect(a.action === 'none' || a.action === 'unlabel').toBe(true);
  });

  it.each(all.map((f) => [label(f), f] as const))('honours orphaning: keeps the object: %s', (_l, f) => {
    if (f.fed.phase === 'deleting' && f.fed.orphan) expect(decideMember(f).action).not.toBe('delete');
  });

  it.each(all.map((f) => [label(f), f] as const))(
    'keeps the finalizer while an unreachable cluster may hold a copy: %s',
    (_l, f) => {
      if (f.fed.phase !== 'deleting' || f.clusterReady || f.protectedNamespace) return;
      const mayHold =
        (f.copy.state === 'present' && !(f.fed.orphan && f.copy.deleting)) ||
        (f.copy.state === 'unknown' && f.placement !== 'unplaced');
      const a = decideMember(f);
      expect(a.action === 'wait' && a.blocksFinalizer).toBe(mayHold);
    },
  );
});

describe('decideMember: the host’s own namespace', () => {
  it.each(
    all
      .filter((f) => f.copy.state === 'present' && f.copy.hostNamespace === true)
      .map((f) => [label(f), f] as const),
  )('is never deleted and never blocks its own deletion: %s', (_l, f) => {
    const a = decideMember(f);
    expect(a.action).not.toBe('delete');
    if (f.clusterReady) expect(a.action === 'wait' && a.blocksFinalizer).toBe(false);
  });
});

describe('decideMember: the cases users meet', () => {
  const ready = { clusterReady: true } as const;
  const owned: CopyFact = { state: 'present', deleting: false, ownerUid: 'u1' };
  const foreign: CopyFact = { state: 'present', deleting: false };
  const live: FederatedState = { phase: 'live', uid: 'u1' };
  it.each<[string, MemberFacts, MemberAction]>([
    [
      'creates or updates where placed',
      { fed: live, placement: 'placed', copy: { state: 'absent' }, ...ready },
      { action: 'apply' },
    ],
    [
      'adopts a managed copy it did not make where placed',
      { fed: live, placement: 'placed', copy: foreign, ...ready },
      { action: 'apply' },
    ],
    [
      'deletes its own copy from a cluster left out of placement',
      { fed: live, placement: 'unplaced', copy: owned, ...ready },
      { action: 'delete' },
    ],
    [
      'only unlabels a copy it cannot prove it made, when unplaced',
      { fed: live, placement: 'unplaced', copy: foreign, ...ready },
      { action: 'unlabel', code: 'NotOwned' },
    ],
    [
      'waits (no delete) while the FederatedNamespace cache is not synced',
      { fed: live, placement: 'unknown', copy: owned, ...ready },
      { action: 'wait', code: 'CachedRetrievalFailed', blocksFinalizer: false },
    ],
    [
      'deletes its own copy when the federated object is deleted',
      { fed: { phase: 'deleting', uid: 'u1', orphan: false }, placement: 'placed', copy: owned, ...ready },
      { action: 'delete' },
    ],
    [
      'unlabels on an orphaning deletion',
      { fed: { phase: 'deleting', uid: 'u1', orphan: true }, placement: 'placed', copy: owned, ...ready },
      { action: 'unlabel' },
    ],
    [
      'keeps the finalizer for a cluster that is down and held a copy',
      {
        fed: { phase: 'deleting', uid: 'u1', orphan: false },
        placement: 'placed',
        copy: owned,
        clusterReady: false,
      },
      { action: 'wait', code: 'ClusterNotReady', blocksFinalizer: true },
    ],
    [
      'keeps the finalizer until a copy being deleted is gone',
      {
        fed: { phase: 'deleting', uid: 'u1', orphan: false },
        placement: 'placed',
        copy: { state: 'present', deleting: true },
        ...ready,
      },
      { action: 'wait', code: 'WaitingForRemoval', blocksFinalizer: true },
    ],
    [
      'unlabels a stray',
      { fed: { phase: 'absent' }, placement: 'unplaced', copy: owned, ...ready },
      { action: 'unlabel' },
    ],
    [
      'reports a placed cluster that is down',
      { fed: live, placement: 'placed', copy: owned, clusterReady: false, notReadyCode: 'ClusterNotReady' },
      { action: 'wait', code: 'ClusterNotReady', blocksFinalizer: false },
    ],
  ])('%s', (_name, facts, expected) => {
    expect(decideMember(facts)).toEqual(expected);
  });
});
