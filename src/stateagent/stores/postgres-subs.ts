/**
 * Subscriptions in PostgreSQL (tables in postgres-schema.ts): a user who set
 * a list has a `flag_subscribers` row; each subscribed mailbox a
 * `flag_subscriptions` row, so one SUBSCRIBE writes one row however long the
 * list. Each call is one statement or one transaction, durable on return.
 * Throws INVALID for bad names or beyond MAX_SUBSCRIPTIONS, UNAVAILABLE
 * (from the store's runners) when the database fails.
 */
import { FlagStoreError } from '../flagstore.js';
import { MAX_SUBSCRIPTIONS } from '../limits.js';
import { checkMailbox, checkUser } from '../validate.js';
import type { Query } from './postgres-sql.js';

type Run = (what: string, text: string, values?: unknown[]) => Promise<unknown[][]>;
type Tx = <T>(what: string, fn: (q: Query) => Promise<T>) => Promise<T>;

const SET = `
WITH s AS (
  INSERT INTO flag_subscribers (user_name) VALUES ($1) ON CONFLICT DO NOTHING
), n AS (
  SELECT count(*) AS n, coalesce(bool_or(mailbox = $2), false) AS has FROM flag_subscriptions WHERE user_name = $1
), i AS (
  INSERT INTO flag_subscriptions (user_name, mailbox) SELECT $1, $2 FROM n WHERE $3 AND NOT n.has AND n.n < $4
  ON CONFLICT DO NOTHING RETURNING 1
), d AS (
  DELETE FROM flag_subscriptions WHERE NOT $3 AND user_name = $1 AND mailbox = $2 RETURNING 1
)
SELECT n.has, (SELECT count(*) FROM i), (SELECT count(*) FROM d) FROM n`;

export class PgSubscriptions {
  constructor(private readonly run: Run, private readonly tx: Tx) {}

  /** The user's subscribed mailboxes (ascending), or null if the user never set any. */
  async list(user: string): Promise<string[] | null> {
    checkUser(user);
    const rows = await this.run(
      'read subscriptions',
      'SELECT EXISTS (SELECT 1 FROM flag_subscribers WHERE user_name = $1), ARRAY(SELECT mailbox FROM flag_subscriptions WHERE user_name = $1 ORDER BY mailbox)',
      [user],
    );
    const [set, list] = rows[0] as [boolean, string[]];
    return set ? list : null;
  }

  async set(user: string, mailbox: string, subscribed: boolean): Promise<void> {
    checkUser(user);
    checkMailbox(mailbox);
    const rows = await this.run('subscribe', SET, [user, mailbox, subscribed, MAX_SUBSCRIPTIONS]);
    const [has, inserted] = rows[0] as [boolean, number];
    if (subscribed && !has && Number(inserted) === 0) throw new FlagStoreError('INVALID', `at most ${MAX_SUBSCRIPTIONS} subscriptions`);
  }

  /** Replace the whole list (null: forget it), in one transaction. */
  async replace(user: string, mailboxes: readonly string[] | null): Promise<void> {
    checkUser(user);
    if (mailboxes) {
      for (const m of mailboxes) checkMailbox(m);
      if (mailboxes.length > MAX_SUBSCRIPTIONS) throw new FlagStoreError('INVALID', `at most ${MAX_SUBSCRIPTIONS} subscriptions`);
    }
    await this.tx('set subscriptions', async (q) => {
      await q('DELETE FROM flag_subscriptions WHERE user_name = $1', [user]);
      if (mailboxes === null) {
        await q('DELETE FROM flag_subscribers WHERE user_name = $1', [user]);
        return;
      }
      await q('INSERT INTO flag_subscribers (user_name) VALUES ($1) ON CONFLICT DO NOTHING', [user]);
      await q('INSERT INTO flag_subscriptions (user_name, mailbox) SELECT $1, m FROM unnest($2::text[]) AS m ON CONFLICT DO NOTHING', [user, [...new Set(mailboxes)]]);
    });
  }
}
