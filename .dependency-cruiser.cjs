/**
 * The import rules of newsfront (DESIGN.md "The pieces and the one direction
 * data flows", STYLE §5a "one door per room"), checked by dependency-cruiser
 * in `npm test` (test/rules/imports.test.ts) and by hand with
 *   npx depcruise src --config .dependency-cruiser.cjs
 *
 * Rooms are the folders under src/. From the top down:
 *   src/cli.ts, src/app/        the application (config, start, ingest): imports anything
 *   src/imap/                   protocol; sees export and state only through their doors
 *   src/export/, src/stateagent/
 *   src/nntp/, src/uidmap/, src/search/, src/mime/
 *   src/util/                   leaf utilities
 * Type-only imports count (`tsPreCompilationDeps`): a type names a dependency too.
 */
/** Rooms entered through their index.ts from any other room. */
const DOORED = '(mime|uidmap|nntp|search)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'imap-through-doors',
      comment:
        'src/imap sees the rest of the server through the backend interface (src/export/interface.ts), the FlagStore ' +
        '(src/stateagent/flagstore.ts), the MIME library (src/mime, through its door: one-door-per-room) and src/util; nothing else.',
      severity: 'error',
      from: { path: '^src/imap/' },
      to: {
        path: '^src/',
        pathNot: ['^src/(imap|util|mime)/', '^src/export/interface\\.ts$', '^src/stateagent/flagstore\\.ts$'],
      },
    },
    {
      name: 'nothing-below-imports-imap-or-app',
      comment: 'Dependencies flow downward: no lower room imports the protocol layer or the application (src/app, src/cli.ts).',
      severity: 'error',
      from: { path: '^src/(export|nntp|uidmap|mime|stateagent|util|search)/' },
      to: { path: ['^src/(imap|app)/', '^src/cli\\.ts$'] },
    },
    {
      name: 'util-is-a-leaf',
      comment: 'src/util imports nothing of src outside itself.',
      severity: 'error',
      from: { path: '^src/util/' },
      to: { path: '^src/', pathNot: '^src/util/' },
    },
    {
      name: 'mime-is-a-leaf',
      comment: 'src/mime parses and never fetches: it imports nothing of src except src/util.',
      severity: 'error',
      from: { path: '^src/mime/' },
      to: { path: '^src/', pathNot: '^src/(mime|util)/' },
    },
    {
      name: 'low-rooms-import-only-util',
      comment: 'The NNTP client, the UID map and the flag stores stand on src/util alone.',
      severity: 'error',
      from: { path: '^src/(nntp|uidmap|stateagent)/' },
      to: { path: '^src/', pathNot: '^src/($1|util)/' },
    },
    {
      name: 'one-door-per-room',
      comment: `A room with an index.ts (src/${DOORED}) is entered through it from every other room; its other files are its own business.`,
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      to: { path: `^src/${DOORED}/`, pathNot: ['^src/$1/', `^src/${DOORED}/index\\.ts$`] },
    },
    {
      name: 'no-cycles',
      comment: 'No import cycles inside src/.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/', circular: true },
    },
    {
      name: 'resolvable',
      comment: 'Every import resolves (else no rule above could see where it goes).',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
    {
      name: 'src-stands-alone',
      comment: 'Server code does not import benches, tests or fuzzers.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(bench|test|fuzz)/' },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: ['node_modules', '^(bench|test|fuzz)/'] },
    exclude: { path: '\\.d\\.ts$' },
    // Resolve package subpaths (`libmime/lib/charset.js`) through `exports` as Node does for ESM.
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'types', 'node', 'default'] },
  },
};
