import { describe, expect, it } from 'vitest';
import { DEFAULT_TARGET_TYPES, typeConfigFor } from '../api/type-configs.ts';
import type { FederatedTypeConfig } from '../api/types.ts';
import { typeConfigStatus, typeConfigStatusDiffers } from './ftc-status.ts';

/** The deployments.apps type config, as kubefedctl enable makes it, at generation 3. */
const ftc = (over: Partial<FederatedTypeConfig['spec']> = {}, status?: FederatedTypeConfig['status']) => {
  const base = typeConfigFor(DEFAULT_TARGET_TYPES.find((t) => t.kind === 'Deployment')!);
  return {
    ...base,
    metadata: { ...base.metadata, generation: 3 },
    spec: { ...base.spec, ...over },
    ...(status ? { status } : {}),
  } as FederatedTypeConfig;
};

describe('typeConfigStatus', () => {
  it.each<[string, FederatedTypeConfig, boolean, object]>([
    [
      'running',
      ftc(),
      true,
      { observedGeneration: 3, propagationController: 'Running', statusController: 'NotRunning' },
    ],
    [
      'running with status collection',
      ftc({ statusCollection: 'Enabled' }),
      true,
      { observedGeneration: 3, propagationController: 'Running', statusController: 'Running' },
    ],
    [
      'disabled (or its CRD missing)',
      ftc({ propagation: 'Disabled', statusCollection: 'Enabled' }),
      false,
      { observedGeneration: 3, propagationController: 'NotRunning', statusController: 'NotRunning' },
    ],
  ])('%s', (_name, config, running, expected) => {
    expect(typeConfigStatus(config, running)).toEqual(expected);
  });

  it('needs a write only when something differs (a restart with nothing changed writes nothing)', () => {
    const current = ftc(
      {},
      { observedGeneration: 3, propagationController: 'Running', statusController: 'NotRunning' },
    );
    expect(typeConfigStatusDiffers(current, typeConfigStatus(current, true))).toBe(false);
    expect(typeConfigStatusDiffers(current, typeConfigStatus(current, false))).toBe(true);
    expect(typeConfigStatusDiffers(ftc(), typeConfigStatus(ftc(), true))).toBe(true);
    // KubeFed left statusController unset in some versions: unset means NotRunning.
    const kubefed = ftc({}, { observedGeneration: 3, propagationController: 'Running' });
    expect(typeConfigStatusDiffers(kubefed, typeConfigStatus(kubefed, true))).toBe(false);
  });
});
