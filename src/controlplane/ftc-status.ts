// The status fedctl writes on a FederatedTypeConfig, as KubeFed's type-config controller did:
// `observedGeneration` (the spec the controller acts on), `propagationController` (its sync
// controller runs) and `statusController`. kubefedctl `disable` waits for propagationController
// NotRunning; users read them with `kubectl get ftc`.
//
// statusController: KubeFed ran a separate controller only for FederatedServiceStatus; with its raw
// status collection the sync controller collected remote status and statusController stayed
// NotRunning. fedctl collects status in the sync controller, so statusController says whether
// remote status is being collected for the type: Running when statusCollection is Enabled and the
// type's controller runs.

import type { FederatedTypeConfig, FederatedTypeConfigStatus } from '../api/types.ts';

export function typeConfigStatus(ftc: FederatedTypeConfig, running: boolean): FederatedTypeConfigStatus {
  return {
    observedGeneration: ftc.metadata?.generation ?? 0,
    propagationController: running ? 'Running' : 'NotRunning',
    statusController: running && ftc.spec?.statusCollection === 'Enabled' ? 'Running' : 'NotRunning',
  };
}

/** Whether the FTC's current status differs from `next` (so a write is needed). */
export function typeConfigStatusDiffers(ftc: FederatedTypeConfig, next: FederatedTypeConfigStatus): boolean {
  const s = ftc.status;
  return (
    s?.observedGeneration !== next.observedGeneration ||
    s?.propagationController !== next.propagationController ||
    (s?.statusController ?? 'NotRunning') !== next.statusController
  );
}
