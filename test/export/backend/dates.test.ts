/**
 * parseDate's direct reading of the common Date form against the general way
 * (comments dropped, then V8's Date.parse): the same number, or both NaN, for
 * generated strings of that form and near it.
 */
import { describe, expect, it } from 'vitest';
import { parseDate } from '../../../src/export/backend/dates.js';
import { prng } from '../../../src/export/sample/generate.js';

/** The general way alone (what parseDate did before it read the common form itself). */
function general(value: string): number {
  const v = value.replace(/\([^()]*\)/g, ' ').trim();
  if (v === '') return NaN;
  const ms = Date.parse(v);
  return Number.isFinite(ms) ? ms : NaN;
}


const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const pad = (n: number, w: number): string => String(n).padStart(w, '0');

describe('parseDate', () => {
  it('equals the general way for generated dates of the common form and near it', () => {
    const rand = prng(5322);
    const days = ['Mon, ', 'Tue, ', 'Sun, ', '', 'Xyz, ', 'mon, ', 'Mon,', 'Monday, '];
    const months = ['Jan', 'Feb', 'Mar', 'Apr', 'Jun', 'Sep', 'Dec', 'jan', 'JAN', 'Foo'];
    const zones = ['+0000', '-0000', '+0100', '-0500', '+0530', '-1200', '+1400', '+2359', '+2400', '-0060', '+000', 'GMT', 'UT', 'Z', '+0000 (UTC)', '+0900 (JST)', '+0900  (JST)', '+0900 (JST', '+0900 (a(b)c)', '+0900 ()', '+0900 (UTC) x', '+0900 (x))', '+0900(JST)', '+0900 (\u00e9 t)'];
    for (let k = 0; k < 50_000; k++) {
      const d = Math.floor(rand() * 34);
      const day = rand() < 0.2 ? pad(d, 2) : String(d);
      const year = pick(rand, [1970, 1999, 2000, 2024, 2026, 2100, 1900, 1600, 999, 10000, 2023, 2028]);
      const time = `${pad(Math.floor(rand() * 26), 2)}:${pad(Math.floor(rand() * 62), 2)}:${pad(Math.floor(rand() * 62), 2)}`;
      let s = `${pick(rand, days)}${day} ${pick(rand, months)} ${year} ${time} ${pick(rand, zones)}`;
      if (rand() < 0.05) s = ` ${s}`;
      if (rand() < 0.05) s = `${s} `;
      if (rand() < 0.05) s = s.replace(' ', '  ');
      const want = general(s);
      const got = parseDate(s);
      if (Number.isNaN(want)) expect(got, s).toBeNaN();
      else expect(got, s).toBe(want);
    }
  });

  it('gives Date.UTC for every day of every month, over four centuries and their edges', () => {
    const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
    for (const year of [1000, 1599, 1600, 1700, 1899, 1900, 1969, 1970, 1999, 2000, 2024, 2100, 2400, 9999]) {
      for (let m = 0; m < 12; m++) {
        const last = new Date(Date.UTC(year, m + 1, 0)).getUTCDate();
        for (let d = 1; d <= last; d++) {
          expect(parseDate(`${d} ${months[m]} ${year} 23:59:58 -0130`), `${d} ${months[m]} ${year}`).toBe(Date.UTC(year, m, d, 23, 59, 58) + 90 * 60_000);
        }
      }
    }
  });

  it('reads the common form itself, days of February by the year', () => {
    expect(parseDate('Mon, 1 Jan 2024 00:00:00 +0000')).toBe(Date.UTC(2024, 0, 1));
    expect(parseDate('29 Feb 2024 12:30:15 -0130')).toBe(Date.UTC(2024, 1, 29, 14, 0, 15));
    expect(parseDate('29 Feb 2023 12:30:15 +0000')).toBe(general('29 Feb 2023 12:30:15 +0000'));
    expect(parseDate('31 Apr 2024 00:00:00 +0000')).toBe(general('31 Apr 2024 00:00:00 +0000'));
    expect(parseDate('Sun, 1 Mar 2015 09:11:03 +0900 (JST)')).toBe(Date.UTC(2015, 2, 1, 0, 11, 3));
  });
});
