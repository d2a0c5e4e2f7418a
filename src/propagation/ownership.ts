// The one place that decides what fedctl may do to a member object. Every write the sync reconciler
// sends to a member starts here, so the safety rule holds by construction:
//
//   A member object is deleted only when fedctl knows the user asked for it (its federated object is
//   being deleted without orphaning, or its cluster left the object's placement) and fedctl made or
//   adopted that object (it carries the owner annotation with the federated object's UID). Anything
//   unknown (a cache not synced, a cluster not ready, a placement not computable yet) means wait.
//   A managed-labelled object fedctl cannot prove it owns only loses the label (KubeFed's behaviour).
//
// Pure: the reconciler gathers the facts, this function decides, the reconciler carries it out.

import { PropagationStatus as Code } from '../api/conditions.ts';
import { OWNER_UID_ANNOTATION } from '../api/constants.ts';

/** The federated object as the synced host cache shows it. */
export type FederatedState =
  /** Not in the (synced) host cache: any managed copy is a stray. */
  | { phase: 'absent' }
  | { phase: 'live'; uid: string }
  /** deletionTimestamp set while fedctl's finalizer is held. */
  | { phase: 'deleting'; uid: string; orphan: boolean };

/**
 * Whether the object is placed in this cluster. `unknown` when the placement cannot be computed yet
 * (for example the FederatedNamespace cache has not synced, or the namespaces type is not running).
 */
export type PlacementFact = 'placed' | 'unplaced' | 'unknown';

/** What fedctl knows of the member's copy. */
export type CopyFact =
  /** The member cache never synced: the copy may or may not exist. */
  | { state: 'unknown' }
  | { state: 'absent' }
  | {
      state: 'present';
      /** The copy has a deletionTimestamp (finalizers in the member still run). */
      deleting: boolean;
      /** Value of the owner annotation, if any. */
      ownerUid?: string;
      /**
       * Namespace targets: this copy *is* the host's own namespace (same UID), which holds the
       * federated objects themselves; 'unknown' when the host could not be asked.
       */
      hostNamespace?: boolean | 'unknown';
    };

export interface MemberFacts {
  fed: FederatedState;
  placement: PlacementFact;
  /** Ready per the health prober, with a synced cache of the target type. */
  clusterReady: boolean;
  /** Why the cluster cannot be worked on now (reported for placed objects). */
  notReadyCode?: typeof Code.ClusterNotReady | typeof Code.CachedRetrievalFailed;
  copy: CopyFact;
  /** The target is a system or control-plane Namespace: never touched in members. */
  protectedNamespace?: boolean;
}

export type MemberAction =
  /** Nothing to do and nothing to report for this cluster. */
  | { action: 'none' }
  /** Unknown or unreachable: write nothing; `code` is reported; `blocksFinalizer` keeps the finalizer. */
  | { action: 'wait'; code: string; blocksFinalizer: boolean }
  /** Bring the copy to the desired state (create, adopt or update). */
  | { action: 'apply' }
  | { action: 'delete' }
  /** Remove the managed label (and fedctl's annotations) but keep the object. */
  | { action: 'unlabel'; code?: string };

export function decideMember(f: MemberFacts): MemberAction {
  if (f.protectedNamespace) return { action: 'none' };
  if (!f.clusterReady) return whileUnreachable(f);
  const copy = f.copy;
  switch (f.fed.phase) {
    case 'absent':
      // A stray: no federated object claims it. Never deleted: it may be an orphaned copy, an earlier
      // KubeFed's object, or another host's; only the label goes (KubeFed's "possible orphan").
      return copy.state === 'present' && !copy.deleting ? { action: 'unlabel' } : { action: 'none' };
    case 'deleting': {
      if (copy.state !== 'present') return { action: 'none' };
      if (copy.hostNamespace === 'unknown') return unknownHost;
      // The host's namespace is never deleted by fedctl; when it is being deleted (which deletes this
      // federated object), waiting for it would deadlock on this very finalizer.
      if (copy.hostNamespace === true) return copy.deleting ? { action: 'none' } : { action: 'unlabel' };
      if (copy.deleting) return { action: 'wait', code: Code.WaitingForRemoval, blocksFinalizer: true };
      if (f.fed.orphan) return { action: 'unlabel' };
      return copy.ownerUid === f.fed.uid ? { action: 'delete' } : { action: 'unlabel', code: Code.NotOwned };
    }
    case 'live': {
      if (f.placement === 'unknown')
        return { action: 'wait', code: Code.CachedRetrievalFailed, blocksFinalizer: false };
      if (f.placement === 'placed') return { action: 'apply' };
      if (copy.state !== 'present' || copy.deleting) return { action: 'none' };
      if (copy.hostNamespace === 'unknown') return unknownHost;
      if (copy.hostNamespace === true) return { action: 'unlabel' };
      return copy.ownerUid === f.fed.uid ? { action: 'delete' } : { action: 'unlabel', code: Code.NotOwned };
    }
  }
}

const unknownHost: MemberAction = { action: 'wait', code: Code.RetrievalFailed, blocksFinalizer: true };

/**
 * A cluster that is not ready (or whose cache has not synced) gets no writes. A deleting federated
 * object keeps its finalizer while such a cluster may still hold a copy (from its last synced cache,
 * or, if it never synced, while the object is placed there): the removal happens when it returns.
 */
function whileUnreachable(f: MemberFacts): MemberAction {
  const code = f.notReadyCode ?? Code.ClusterNotReady;
  switch (f.fed.phase) {
    case 'absent':
      return { action: 'none' };
    case 'deleting': {
      const mayHold =
        (f.copy.state === 'present' && (!f.fed.orphan || !f.copy.deleting)) ||
        (f.copy.state === 'unknown' && f.placement !== 'unplaced');
      return mayHold ? { action: 'wait', code, blocksFinalizer: true } : { action: 'none' };
    }
    case 'live':
      return f.placement === 'placed' ||
        f.placement === 'unknown' ||
        (f.copy.state === 'present' && !f.copy.deleting)
        ? { action: 'wait', code, blocksFinalizer: false }
        : { action: 'none' };
  }
}

/** The owner annotation of a member object. */
export const ownerUidOf = (obj: { metadata?: { annotations?: Record<string, string> } } | undefined) =>
  obj?.metadata?.annotations?.[OWNER_UID_ANNOTATION];
