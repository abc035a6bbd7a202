/**
 * Configuration files for a private INN 2.7 instance living in one temp dir.
 * Pure functions returning file contents; `inn.ts` writes them and starts innd.
 *
 * Layout under `dir` (all owned by `news`):
 *   etc/      inn.conf storage.conf incoming.conf readers.conf newsfeeds expire.ctl
 *   db/       active active.times newsgroups history(+dbz files from makedbz)
 *   spool/articles spool/overview run/ log/ tmp/ incoming/ outgoing/ archive/ http/ filter/
 *
 * Choices and why:
 * - `artcutoff: 0`: accept articles of any age (the corpus has old Dates). INN still
 *   rejects Dates more than a day in the future.
 * - `maxartsize: 0`: no size limit (the large article is ~57 MB).
 * - empty `incoming.conf`: no TCP feeding peers, so every TCP client from 127.0.0.1 gets
 *   a reader (nnrpd); rnews still injects over the local UNIX socket in `run/`.
 * - `pathfilter` points at an empty dir: no Perl/Python filters, nothing rejected by policy.
 * - `active` always carries `control`, `control.cancel` and `junk`: innd refuses to start
 *   without them ("internal no control and/or junk group").
 * - tradspool + tradindexed + `wireformat: true`: articles stored exactly as served.
 * - `clienttimeout`: an nnrpd left behind by a leaking test exits after this.
 * - `nnrpdloadlimit: 0`: nnrpd never refuses readers for the load average (INN's default
 *   16 is reached on a shared 2-core test machine: `400 load at 16.72, try later`).
 */

export interface InnConfigInput {
  dir: string;
  port: number;
  /** Path identity prepended to Path and used in Xref. */
  pathhost: string;
  /** Header fields INN keeps in its overview besides the standard ones and Xref (`extraoverviewadvertised`). */
  extraOverview?: readonly string[];
}

/** Idle nnrpd lifetime (s): long enough for IDLE tests, short enough that leaks clear. */
const CLIENT_TIMEOUT_S = 600;

export function innConf(c: InnConfigInput): string {
  const d = c.dir;
  return `# private INN for newsfront tests
domain: localdomain
pathhost: ${c.pathhost}
server: 127.0.0.1
port: ${c.port}
bindaddress: 127.0.0.1
ovmethod: tradindexed
hismethod: hisv6
artcutoff: 0
maxartsize: 0
localmaxartsize: 0
wireformat: true
enableoverview: true
${c.extraOverview?.length ? `extraoverviewadvertised: [ ${c.extraOverview.join(' ')} ]\n` : ''}storeonxref: true
xrefslave: false
pgpverify: false
doinnwatch: false
docnfsstat: false
logartsize: true
nnrpdcheckart: true
noreader: false
readerswhenstopped: false
clienttimeout: ${CLIENT_TIMEOUT_S}
nnrpdloadlimit: 0
maxconnections: 200
mta: "/bin/true %s"
mailcmd: /bin/true
pathnews: /usr/lib/news
pathbin: /usr/lib/news/bin
pathcontrol: /usr/lib/news/bin/control
pathfilter: ${d}/filter
pathetc: ${d}/etc
pathdb: ${d}/db
pathspool: ${d}/spool
patharticles: ${d}/spool/articles
pathoverview: ${d}/spool/overview
pathrun: ${d}/run
pathlog: ${d}/log
pathtmp: ${d}/tmp
pathincoming: ${d}/incoming
pathoutgoing: ${d}/outgoing
patharchive: ${d}/archive
pathhttp: ${d}/http
`;
}

export const STORAGE_CONF = `method tradspool {
    newsgroups: *
    class: 0
}
`;

/** No peers: TCP clients from 127.0.0.1 must get nnrpd, not the feeder protocol. */
export const INCOMING_CONF = `# intentionally empty: rnews injects over the local UNIX socket
`;

export const READERS_CONF = `auth "all" {
    hosts: "*"
    default: "<tester>"
}
access "all" {
    users: "*"
    newsgroups: "*"
    access: RPA
}
`;

export const NEWSFEEDS = `ME:*::
`;

export const EXPIRE_CTL = `/remember/:0
*:A:never:never:never
`;

/** Groups innd needs besides the test groups. */
export const SYSTEM_GROUPS: readonly { name: string; flag: string }[] = [
  { name: 'control', flag: 'n' },
  { name: 'control.cancel', flag: 'n' },
  { name: 'junk', flag: 'n' },
];

/** Group names INN accepts in `active` (no whitespace, no control characters). */
export function checkGroupName(name: string): void {
  if (!/^[^\s\x00-\x1f\x7f:!*?[\]\\]+$/.test(name) || name.startsWith('.') || name.endsWith('.')) {
    throw new Error(`invalid newsgroup name for INN active file: ${JSON.stringify(name)}`);
  }
}

/** The active file: `name high low flag`, with high 0 and low 1 for an empty group. */
export function activeFile(groups: readonly string[]): string {
  const lines = groups.map((g) => {
    checkGroupName(g);
    return `${g} 0000000000 0000000001 y`;
  });
  for (const s of SYSTEM_GROUPS) {
    if (!groups.includes(s.name)) lines.push(`${s.name} 0000000000 0000000001 ${s.flag}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `newsgroups` file (LIST NEWSGROUPS): name TAB description. */
export function newsgroupsFile(descriptions: Readonly<Record<string, string>>): string {
  return Object.entries(descriptions)
    .map(([g, d]) => `${g}\t${d}\n`)
    .join('');
}
