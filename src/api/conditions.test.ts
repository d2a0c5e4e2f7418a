import { describe, expect, it } from 'vitest';
import {
  ClusterReason,
  ConditionType,
  conditionsEqual,
  findCondition,
  formatTime,
  isConditionTrue,
  isRecoverablePropagationStatus,
  PropagationMessage,
  PropagationReason,
  PropagationStatus,
  removeCondition,
  setCondition,
} from './conditions.ts';
import type { ClusterCondition, Condition } from './types.ts';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T00:05:00Z';

const ready = (status: 'True' | 'False', extra: Partial<Condition> = {}): Condition => ({
  type: 'Ready',
  status,
  reason: status === 'True' ? 'ClusterReady' : 'ClusterNotReady',
  ...extra,
});

describe('condition constants', () => {
  it("carry KubeFed v0.10 strings for every per-cluster status code, plus fedctl's ClusterNotFound", () => {
    expect(Object.values(PropagationStatus).sort()).toEqual(
      [
        'AlreadyExists',
        'ApplyOverridesFailed',
        'CachedRetrievalFailed',
        'ClientRetrievalFailed',
        'ClusterNotFound',
        'ClusterNotReady',
        'ComputeResourceFailed',
        'CreationFailed',
        'CreationTimedOut',
        'DeletionFailed',
        'DeletionTimedOut',
        'FieldRetentionFailed',
        'LabelRemovalFailed',
        'LabelRemovalTimedOut',
        'ManagedLabelFalse',
        'RetrievalFailed',
        'UpdateFailed',
        'UpdateTimedOut',
        'VersionRetrievalFailed',
        'WaitingForRemoval',
        'NotOwned',
      ].sort(),
    );
  });

  it('carry the object-level reasons and cluster reasons KubeFed wrote', () => {
    expect(Object.values(PropagationReason).sort()).toEqual([
      'CheckClusters',
      'ClusterRetrievalFailed',
      'ComputePlacementFailed',
      'InvalidDeleteOptions',
      'NamespaceNameMismatch',
      'NamespaceNotFederated',
      'ProtectedNamespace',
    ]);
    expect(ClusterReason).toMatchObject({
      ClusterReady: 'ClusterReady',
      ClusterNotReady: 'ClusterNotReady',
      ClusterNotReachable: 'ClusterNotReachable',
      ClusterReachable: 'ClusterReachable',
    });
    expect(ConditionType).toMatchObject({ Propagation: 'Propagation', Ready: 'Ready', Offline: 'Offline' });
  });

  it('are frozen so no module can change them at run time', () => {
    expect(Object.isFrozen(PropagationStatus)).toBe(true);
    expect(Object.isFrozen(ConditionType)).toBe(true);
  });

  it.each([
    ['CreationFailed', true],
    ['UpdateTimedOut', true],
    ['ClientRetrievalFailed', true],
    ['ClusterNotReady', false],
    ['ManagedLabelFalse', false],
    ['AlreadyExists', false],
    ['ApplyOverridesFailed', false],
    [undefined, false],
  ])('treat %s as recoverable: %s', (code, expected) => {
    expect(isRecoverablePropagationStatus(code)).toBe(expected);
  });
});

describe('formatTime', () => {
  it('writes RFC 3339 with second precision, as metav1.Time does', () => {
    expect(formatTime(new Date('2026-01-01T10:20:30.456Z'))).toBe('2026-01-01T10:20:30Z');
    expect(formatTime('2026-01-01T10:20:30Z')).toBe('2026-01-01T10:20:30Z');
  });

  it('refuses an invalid time', () => {
    expect(() => formatTime('yesterday')).toThrow(/invalid time/);
  });
});

describe('setCondition', () => {
  it('appends a new condition with lastTransitionTime now', () => {
    expect(setCondition(undefined, ready('True'), T0)).toEqual([
      { ...ready('True'), lastTransitionTime: T0 },
    ]);
  });

  it('returns the same array when nothing changed, so callers can skip the write', () => {
    const before = [{ ...ready('True'), lastTransitionTime: T0 }];
    const after = setCondition(before, ready('True'), T1);
    expect(after).toBe(before);
  });

  it('keeps lastTransitionTime when only the message changes', () => {
    const before = [{ ...ready('False', { message: 'a' }), lastTransitionTime: T0 }];
    const after = setCondition(before, ready('False', { message: 'b' }), T1);
    expect(after).not.toBe(before);
    expect(after[0]).toEqual({ ...ready('False', { message: 'b' }), lastTransitionTime: T0 });
  });

  it('keeps lastTransitionTime when only the reason or observedGeneration changes', () => {
    const before = [{ ...ready('False'), lastTransitionTime: T0, observedGeneration: 1 }];
    const after = setCondition(before, { ...ready('False'), reason: 'Other', observedGeneration: 2 }, T1);
    expect(after[0]).toMatchObject({ reason: 'Other', observedGeneration: 2, lastTransitionTime: T0 });
  });

  it('moves lastTransitionTime when the status flips', () => {
    const before = [{ ...ready('True'), lastTransitionTime: T0 }];
    expect(setCondition(before, ready('False'), T1)[0]?.lastTransitionTime).toBe(T1);
  });

  it('sets lastTransitionTime when the old condition had none', () => {
    const before = [ready('True')];
    expect(setCondition(before, ready('True'), T1)[0]?.lastTransitionTime).toBe(T1);
  });

  it('uses the given lastTransitionTime for a new condition', () => {
    expect(
      setCondition<Condition>([], { ...ready('True'), lastTransitionTime: T0 }, T1)[0]?.lastTransitionTime,
    ).toBe(T0);
  });

  it('replaces in place and leaves other conditions and the input untouched', () => {
    const offline: Condition = { type: 'Offline', status: 'False', lastTransitionTime: T0 };
    const before = [{ ...ready('True'), lastTransitionTime: T0 }, offline];
    const frozen = structuredClone(before);
    const after = setCondition(before, ready('False'), T1);
    expect(after.map((c) => c.type)).toEqual(['Ready', 'Offline']);
    expect(after[1]).toBe(offline);
    expect(before).toEqual(frozen);
  });

  it('drops fields the update leaves undefined', () => {
    const after = setCondition<Condition>([], { type: 'Ready', status: 'True', reason: undefined }, T0);
    expect(Object.keys(after[0]!)).not.toContain('reason');
  });

  it('counts a KubeFed lastProbeTime as content, so the first fedctl write drops it and later ones do not churn', () => {
    const kubefed: ClusterCondition[] = [{ ...ready('True'), lastTransitionTime: T0, lastProbeTime: T0 }];
    const first = setCondition<ClusterCondition>(kubefed, ready('True'), T1);
    expect(first).not.toBe(kubefed);
    expect(first[0]).toEqual({ ...ready('True'), lastTransitionTime: T0 });
    expect(setCondition<ClusterCondition>(first, ready('True'), T1)).toBe(first);
  });
});

describe('removeCondition', () => {
  it('removes the condition of that type', () => {
    expect(removeCondition([ready('True'), { type: 'Offline', status: 'False' }], 'Ready')).toEqual([
      { type: 'Offline', status: 'False' },
    ]);
  });

  it('returns the same array when there was nothing to remove', () => {
    const list = [ready('True')];
    expect(removeCondition(list, 'Offline')).toBe(list);
  });
});

describe('conditionsEqual', () => {
  it.each<[string, Condition[] | undefined, Condition[] | undefined, boolean]>([
    ['both empty', undefined, [], true],
    [
      'same content, other order',
      [ready('True'), { type: 'X', status: 'False' }],
      [{ type: 'X', status: 'False' }, ready('True')],
      true,
    ],
    [
      'timestamps differ only',
      [{ ...ready('True'), lastTransitionTime: T0 }],
      [{ ...ready('True'), lastTransitionTime: T1 }],
      true,
    ],
    ['status differs', [ready('True')], [ready('False', { reason: 'ClusterReady' })], false],
    ['reason differs', [ready('False')], [ready('False', { reason: 'Other' })], false],
    ['message differs', [ready('True', { message: 'a' })], [ready('True', { message: 'b' })], false],
    [
      'observedGeneration differs',
      [ready('True', { observedGeneration: 1 })],
      [ready('True', { observedGeneration: 2 })],
      false,
    ],
    [
      'missing reason equals empty reason',
      [{ type: 'P', status: 'True' }],
      [{ type: 'P', status: 'True', reason: '' }],
      true,
    ],
    ['different length', [ready('True')], [], false],
    ['different types', [ready('True')], [{ ...ready('True'), type: 'Offline' }], false],
  ])('%s → %s', (_name, a, b, expected) => {
    expect(conditionsEqual(a, b)).toBe(expected);
    expect(conditionsEqual(b, a)).toBe(expected);
  });
});

describe('lookups and messages', () => {
  it('finds conditions and reads their truth', () => {
    const list = [ready('True')];
    expect(findCondition(list, 'Ready')).toBe(list[0]);
    expect(isConditionTrue(list, 'Ready')).toBe(true);
    expect(isConditionTrue(list, 'Offline')).toBe(false);
  });

  it('name failing clusters with their codes, and cap long lists', () => {
    expect(PropagationMessage.checkClusters([{ name: 'a', status: 'ClusterNotReady' }])).toBe(
      'not in sync in 1 cluster: a (ClusterNotReady)',
    );
    const many = Array.from({ length: 12 }, (_, i) => ({ name: `c${i}`, status: 'UpdateFailed' }));
    expect(PropagationMessage.checkClusters(many)).toMatch(
      /^not in sync in 12 clusters: c0 \(UpdateFailed\).*, and 2 more$/,
    );
    expect(PropagationMessage.propagated([])).toBe('no cluster selected');
    expect(PropagationMessage.propagated(['a', 'b'])).toBe('in sync in a, b');
  });
});
