/**
 * The broadcast store (store/broadcast-store.ts): each broadcast's item (definition, state, the
 * fan-out's checkpoint and its own counts) and a counters item that message events add to. Every
 * state change is one conditional write on the item, by the transition table of core/broadcast.ts.
 */
import type {
  Broadcast,
  BroadcastAction,
  BroadcastDefinition,
  EventCounter,
  EventCounts,
  FanoutCounts,
} from '../core/broadcast';

/** What a page of the fan-out writes when it is done, in one conditional write. */
export interface Checkpoint {
  /** The run and page the job was for: the write holds only while the item is still at both. */
  readonly run: number;
  readonly page: number;
  /** Where the next page starts; undefined when the list is read to its end. */
  readonly next?: string | undefined;
  /** What this page counted. */
  readonly counts: FanoutCounts;
}

export interface BroadcastStore {
  /** Writes a new broadcast (a draft). */
  create(broadcast: Broadcast): Promise<void>;
  /** The broadcast, read consistently (the fan-out decides on it). */
  get(id: string): Promise<Broadcast | undefined>;
  /** Broadcasts, newest first, paged. */
  list(limit: number, cursor?: string): Promise<{ items: Broadcast[]; next?: string }>;
  /** Replaces a draft's definition; undefined when it is not a draft (nothing written). */
  updateDraft(id: string, definition: BroadcastDefinition, at: string): Promise<Broadcast | undefined>;
  /**
   * Applies `action` in one conditional write (its states in TRANSITIONS; with `run`, only while the
   * broadcast is at that run). The broadcast afterwards, or undefined when the action did not apply.
   * `scheduledAt` is set with `schedule`.
   */
  transition(
    id: string,
    action: BroadcastAction,
    at: string,
    options?: { readonly run?: number; readonly scheduledAt?: string },
  ): Promise<Broadcast | undefined>;
  /** Pins the template version once; the version pinned (the first writer's). */
  pinTemplate(id: string, version: number): Promise<number | undefined>;
  /**
   * Advances the checkpoint past a page and adds its counts, only while the broadcast is sending or
   * paused at the job's run and page. The broadcast afterwards, or undefined when it did not hold.
   */
  checkpoint(id: string, checkpoint: Checkpoint, at: string): Promise<Broadcast | undefined>;
  /** Adds message events' counts (atomic ADDs on the counters item). */
  addCounts(id: string, counts: Partial<Record<EventCounter, number>>): Promise<void>;
  /** The counters of message events. */
  counts(id: string): Promise<EventCounts>;
}
