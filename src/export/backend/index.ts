export { createBackend, type BackendOptions, type ClosableBackend } from './news-backend.js';
