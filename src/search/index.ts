/**
 * SORT and THREAD (RFC 5256, RFC 5957, THREAD=REFS): pure algorithms over plain
 * per-message records. The door of `src/search/`: other code imports from here.
 *
 * A group's records go into one `MessageKeys`, kept while the group is open and
 * appended to as articles arrive; keys derived for one command (ranks, parsed
 * Message-IDs, base subjects, full orders) are kept there for the next.
 */
export { MessageKeys, sentDate, type MessageRecord } from './keys.js';
export { baseSubject, type BaseSubject } from './base-subject.js';
export { sortOrder, sortComparator, SORT_KEYS, type SortKey, type SortCriterion } from './sort.js';
export { threadMessages, THREAD_ALGORITHMS, type ThreadAlgorithm, type ThreadNode } from './thread.js';
