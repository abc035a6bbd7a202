/** The one registry of IMAP commands (STYLE §2). */
import { registry } from '../command.js';
import { anyStateCommands } from './any.js';
import { authCommands } from './auth.js';
import { mailboxCommands } from './mailboxes.js';
import { selectCommands } from './select.js';
import { readOnlyCommands } from './readonly.js';
import { idleCommands } from './idle.js';
import { fetchCommands } from './fetch.js';
import { storeCommands } from './store.js';
import { searchCommands } from './search.js';
import { sortCommands } from './sort.js';
import { threadCommands } from './thread.js';
import { aclCommands } from './acl.js';

export const commands = registry(
  anyStateCommands,
  authCommands,
  mailboxCommands,
  selectCommands,
  readOnlyCommands,
  idleCommands,
  fetchCommands,
  storeCommands,
  searchCommands,
  sortCommands,
  threadCommands,
  aclCommands,
);
