import { describe, expect, it } from 'vitest';
import type { FederatedTypeConfig } from '../api/types.ts';
import { typeConfigStatus, typeConfigStatusDiffers } from './ftc-status.ts';

const ftc = (over: Partial<FederatedTypeConfig['spec']> = {}, status?: FederatedTypeConfig['status']) =>
  ({
    metadata: { name: 'deployments.apps', generation: 3 },
    spec: {
      targetType: {
        group: 'apps',
        version: 'v1',
        kind: 'Deployment',
        pluralName: 'deployments',
        scope: 'Namespaced',
      },
      federatedType: {
        group: 'types.kubefed.io',
        version: 'v1beta1',
        kind: 'FederatedDeployment',
        pluralName: 'federateddeployments',
        scope: 'Namespaced',
      },
      propagation: 'Enabled',
      ...over,
    },
    ...(status ? { status } : {}),
  }) as FederatedTypeConfig;

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
