// A controller's own writes come back to it through its watches. The event that carries exactly the
// state a write of ours produced (same object, same resourceVersion) tells the controller nothing it
// did not know when it wrote: the reconcile that wrote went on with the answer in hand. Recognising
// those echoes by the resourceVersion the write returned (Karmada's objectwatcher does the same)
// saves a reconcile per write; with a finalizer, a status and one copy per member that is most of
// the reconciles a new federated object causes.
//
// The echo often arrives before the write's answer (the watch and the write are separate
// connections), so an event for an object with a write of ours in flight is held until the answer
// comes: the same resourceVersion was the echo and is dropped; any other was somebody else's change
// and enqueues the object then.
//
// Safe because a resourceVersion names one state: a change by anybody else gets a resourceVersion of
// its own, and its event is not an echo. Deletions are never echoes.

/** At most this many unseen writes are remembered per (object, place); older ones are dropped. */
const MAX_PENDING = 4;

interface Slot {
  /** resourceVersions our answered writes returned whose echo has not been seen, oldest first. */
  written: string[];
  /** Writes of ours still waiting for their answer. */
  inflight: number;
  /** resourceVersions of events that arrived while a write was in flight. */
  held: string[];
}

export class OwnWrites {
  /** key → place (e.g. a cluster name) → what is known of our writes there. */
  readonly #slots = new Map<string, Map<string, Slot>>();
  readonly #onMissed: (key: string) => void;

  /** `onMissed(key)`: a held event turned out not to be an echo; enqueue the object. */
  constructor(onMissed: (key: string) => void) {
    this.#onMissed = onMissed;
  }

  /** Sends one write of ours to `key` in `place`; its watch echo will be recognised. */
  async write<T extends { metadata?: { resourceVersion?: string } }>(
    key: string,
    place: string,
    send: () => Promise<T>,
  ): Promise<T> {
    const slot = this.#slot(key, place);
    slot.inflight++;
    let rv: string | undefined;
    try {
      const answer = await send();
      rv = answer?.metadata?.resourceVersion || undefined;
      return answer;
    } finally {
      slot.inflight--;
      const held = slot.held.splice(0);
      if (rv !== undefined && !held.includes(rv)) {
        slot.written.push(rv);
        if (slot.written.length > MAX_PENDING) slot.written.shift();
      }
      this.#tidy(key, place, slot);
      if (held.some((h) => h !== rv)) this.#onMissed(key);
    }
  }

  /**
   * Whether an event for `key` in `place` carrying `resourceVersion` needs no reconcile: the echo of
   * an answered write of ours (recognised once), or held while a write there is in flight.
   */
  isEcho(key: string, place: string, resourceVersion: string | undefined): boolean {
    if (!resourceVersion) return false;
    const slot = this.#slots.get(key)?.get(place);
    if (!slot) return false;
    const i = slot.written.indexOf(resourceVersion);
    if (i >= 0) {
      slot.written.splice(i, 1);
      this.#tidy(key, place, slot);
      return true;
    }
    if (slot.inflight === 0) return false;
    slot.held.push(resourceVersion);
    return true;
  }

  /** The object is gone: nothing of it will echo any more (writes in flight keep their slots). */
  forget(key: string): void {
    const byPlace = this.#slots.get(key);
    if (!byPlace) return;
    for (const [place, slot] of byPlace) {
      slot.written = [];
      this.#tidy(key, place, slot);
    }
  }

  /** Objects with writes in flight or echoes not yet seen (bounded by objects × places). */
  get size(): number {
    return this.#slots.size;
  }

  #slot(key: string, place: string): Slot {
    let byPlace = this.#slots.get(key);
    if (!byPlace) {
      byPlace = new Map();
      this.#slots.set(key, byPlace);
    }
    let slot = byPlace.get(place);
    if (!slot) {
      slot = { written: [], inflight: 0, held: [] };
      byPlace.set(place, slot);
    }
    return slot;
  }

  #tidy(key: string, place: string, slot: Slot): void {
    if (slot.inflight > 0 || slot.written.length > 0 || slot.held.length > 0) return;
    const byPlace = this.#slots.get(key);
    byPlace?.delete(place);
    if (byPlace?.size === 0) this.#slots.delete(key);
  }
}
