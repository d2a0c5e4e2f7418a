import { describe, expect, it } from 'vitest';
import { KUBEFED_NAMESPACE, kubeFedConfig } from './chart.ts';

describe('kubeFedConfig', () => {
  it('sets every field the controller-manager dereferences, since no webhook defaults them', () => {
    const spec = (kubeFedConfig(1) as { spec: Record<string, Record<string, unknown>> }).spec;
    // cmd/controller-manager/app/controller-manager.go dereferences these pointers unchecked.
    expect(spec.leaderElect!.resourceLock).toBe('configmaps');
    expect(spec.clusterHealthCheck).toMatchObject({ failureThreshold: 3, successThreshold: 1 });
    expect(spec.syncController).toEqual({ maxConcurrentReconciles: 1, adoptResources: 'Enabled' });
    expect(spec.statusController).toEqual({ maxConcurrentReconciles: 1 });
    expect(spec.controllerDuration).toEqual({
      availableDelay: '20s',
      unavailableDelay: '60s',
      cacheSyncTimeout: '5m',
    });
  });

  it('is the object the controller-manager looks up: kubefed in the control-plane namespace', () => {
    expect(kubeFedConfig(1).metadata).toEqual({ name: 'kubefed', namespace: KUBEFED_NAMESPACE });
  });

  it('puts the worker count into the sync controller', () => {
    const spec = (kubeFedConfig(8) as { spec: { syncController: { maxConcurrentReconciles: number } } }).spec;
    expect(spec.syncController.maxConcurrentReconciles).toBe(8);
  });

  it('rejects a worker count KubeFed would refuse', () => {
    expect(() => kubeFedConfig(0)).toThrow(/positive integer, got 0/);
    expect(() => kubeFedConfig(1.5)).toThrow(/positive integer/);
  });
});
