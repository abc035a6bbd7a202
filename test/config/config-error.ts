/** The ConfigError `fn` throws; anything else it throws is rethrown, and returning is an Error. */
import { ConfigError } from '../../src/app/config/load.js';

export function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}
