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
