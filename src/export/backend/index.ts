export { createBackend, type BackendOptions, type ClosableBackend } from './news-backend.js';
export type { SizePolicy } from './reader.js';
