/** The shape of a THREAD answer, shared by the algorithms (thread.ts, references.ts). */

/** One message of a thread, or (uid null) a dummy grouping messages whose parent is missing. */
export interface ThreadNode {
  readonly uid: number | null;
  readonly children: readonly ThreadNode[];
}

/** A ThreadNode while it is being built. */
export interface NodeInBuild {
  uid: number | null;
  children: NodeInBuild[];
}

/**
 * The children of every leaf a builder hands out: one frozen empty list
 * instead of an array per message (most messages of a group are leaves).
 * Frozen, so a builder that pushes into a leaf's list throws instead of
 * growing every leaf at once.
 */
export const NO_CHILDREN: NodeInBuild[] = Object.freeze([]) as unknown as NodeInBuild[];
